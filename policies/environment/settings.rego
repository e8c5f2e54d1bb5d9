# Environment-wide checks on environment.yaml (input: environment, environment_settings, jobs).
package salam.environment.settings

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-SECRET-VALUE", sprintf("environment.yaml: %s", [finding])) if {
	some finding in lib.secret_findings(input.environment_settings)
}

deny contains lib.finding("SALAM-TEMPORAL-NAMESPACE", msg) if {
	namespace := input.environment_settings.temporal.namespace
	namespace != lib.expected_namespace
	msg := sprintf("temporal.namespace '%s' is not '%s'", [namespace, lib.expected_namespace])
}

deny contains lib.finding("SALAM-TEMPORAL-TASK-QUEUE", msg) if {
	queue := input.environment_settings.temporal.default_task_queue
	not queue in input.environment_settings.temporal.task_queues
	msg := sprintf("temporal.default_task_queue '%s' is not in task_queues", [queue])
}

deny contains lib.finding("SALAM-K8S-NAMESPACE", msg) if {
	namespace := input.environment_settings.kubernetes.namespace
	namespace != lib.expected_namespace
	msg := sprintf("kubernetes.namespace '%s' is not '%s'", [namespace, lib.expected_namespace])
}
