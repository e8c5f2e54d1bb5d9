# Temporal schedules: namespace and task queue belong to the environment; catch-up is bounded.
package salam.job.temporal

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-TEMPORAL-NAMESPACE", msg, path) if {
	namespace := input.plan.temporal.namespace
	namespace != lib.expected_namespace
	msg := concat("", [
		"Temporal namespace ", lib.quoted(namespace),
		" is not ", lib.quoted(lib.expected_namespace),
	])
	path := lib.orchestration_path(["namespace"])
}

deny contains lib.finding_at("SALAM-TEMPORAL-TASK-QUEUE", msg, path) if {
	queue := input.plan.temporal.task_queue
	queues := object.get(input.environment_settings, ["temporal", "task_queues"], [])
	not queue in queues
	msg := concat("", [
		"task queue ", lib.quoted(queue),
		" is not one of the environment's task_queues (", concat(", ", queues), ")",
	])
	path := lib.orchestration_path(["task_queue"])
}

deny contains lib.finding_at("SALAM-TEMPORAL-CATCHUP", msg, path) if {
	input.plan.temporal
	window := object.get(input.plan, ["schedule", "catchup_window_seconds"], 0)
	limit := data.params.temporal.max_catchup_window_seconds
	window > limit
	msg := concat("", ["catch-up window ", lib.number(window), "s exceeds ", lib.number(limit), "s"])
	path := lib.orchestration_path(["schedule", "catchup_window"])
}
