# Temporal schedules: namespace and task queue belong to the environment; catch-up is bounded.
package salam.job.temporal

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-TEMPORAL-NAMESPACE", msg) if {
	namespace := input.plan.temporal.namespace
	namespace != lib.expected_namespace
	msg := sprintf("Temporal namespace '%s' is not '%s'", [namespace, lib.expected_namespace])
}

deny contains lib.finding("SALAM-TEMPORAL-TASK-QUEUE", msg) if {
	queue := input.plan.temporal.task_queue
	queues := object.get(input.environment_settings, ["temporal", "task_queues"], [])
	not queue in queues
	msg := sprintf("task queue '%s' is not one of the environment's task_queues %v", [queue, queues])
}

deny contains lib.finding("SALAM-TEMPORAL-CATCHUP", msg) if {
	input.plan.temporal
	window := object.get(input.plan, ["schedule", "catchup_window_seconds"], 0)
	limit := data.params.temporal.max_catchup_window_seconds
	window > limit
	msg := sprintf("catch-up window %vs exceeds %vs", [window, limit])
}
