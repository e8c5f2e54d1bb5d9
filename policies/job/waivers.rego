# Documented waivers (conftest `exception`): data.params.waivers lists, per environment, the
# jobs and rule ids waived with the reason (and ideally a ticket). Each exception is an object
# {"rules": [...], "reason": "...", "path": ["waivers", i]}: `path` locates the waiver in the
# policy data, and a waiver without a reason still produces its exception so that the evaluator
# reports it (SALAM-POLICY-EXCEPTION) instead of ignoring it.
package salam.job.waivers

import rego.v1

exception contains {"rules": rules, "reason": reason, "path": ["waivers", i]} if {
	some i, waiver in data.params.waivers
	waiver.job == input.plan.job
	rules := object.get(waiver, "rules", [])
	reason := object.get(waiver, "reason", "")
}
