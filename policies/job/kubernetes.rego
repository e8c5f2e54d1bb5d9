# Kubernetes CronJobs: no overlapping runs, and the environment's namespace.
package salam.job.kubernetes

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-K8S-CONCURRENCY", msg) if {
	policy := object.get(input.plan.kubernetes, "concurrency_policy", "<unset>")
	policy != "Forbid"
	msg := sprintf("CronJob concurrencyPolicy is '%v', must be 'Forbid'", [policy])
}

deny contains lib.finding("SALAM-K8S-NAMESPACE", msg) if {
	namespace := input.plan.kubernetes.namespace
	namespace != lib.expected_namespace
	msg := sprintf("Kubernetes namespace '%s' is not '%s'", [namespace, lib.expected_namespace])
}
