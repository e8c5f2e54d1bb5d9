# Kubernetes CronJobs: no overlapping runs, and the environment's namespace.
package salam.job.kubernetes

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-K8S-CONCURRENCY", msg, path) if {
	policy := object.get(input.plan.kubernetes, "concurrency_policy", "<unset>")
	policy != "Forbid"
	msg := concat("", ["CronJob concurrencyPolicy is ", lib.quoted(policy), ", must be 'Forbid'"])
	path := lib.orchestration_path(["concurrency_policy"])
}

deny contains lib.finding_at("SALAM-K8S-NAMESPACE", msg, path) if {
	namespace := input.plan.kubernetes.namespace
	namespace != lib.expected_namespace
	msg := concat("", [
		"Kubernetes namespace ", lib.quoted(namespace),
		" is not ", lib.quoted(lib.expected_namespace),
	])
	path := lib.orchestration_path(["namespace"])
}
