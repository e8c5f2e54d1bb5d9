# Environment-wide checks on environment.yaml (input: environment, environment_settings, jobs).
# Finding paths are paths in environment.yaml.
package salam.environment.settings

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-SECRET-VALUE", msg, found.path) if {
	some found in lib.secret_findings(input.environment_settings)
	msg := concat(": ", ["environment.yaml", found.msg])
}

deny contains lib.finding_at("SALAM-TEMPORAL-NAMESPACE", msg, ["temporal", "namespace"]) if {
	namespace := input.environment_settings.temporal.namespace
	namespace != lib.expected_namespace
	msg := concat("", [
		"temporal.namespace ", lib.quoted(namespace),
		" is not ", lib.quoted(lib.expected_namespace),
	])
}

deny contains lib.finding_at("SALAM-TEMPORAL-TASK-QUEUE", msg, ["temporal", "default_task_queue"]) if {
	queue := input.environment_settings.temporal.default_task_queue
	not queue in input.environment_settings.temporal.task_queues
	msg := concat("", ["temporal.default_task_queue ", lib.quoted(queue), " is not in task_queues"])
}

deny contains lib.finding_at("SALAM-K8S-NAMESPACE", msg, ["kubernetes", "namespace"]) if {
	namespace := input.environment_settings.kubernetes.namespace
	namespace != lib.expected_namespace
	msg := concat("", [
		"kubernetes.namespace ", lib.quoted(namespace),
		" is not ", lib.quoted(lib.expected_namespace),
	])
}
