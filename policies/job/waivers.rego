# Documented waivers (conftest `exception`): data.params.waivers lists, per environment, the
# jobs and rule ids waived with the reason (and ideally a ticket). Each exception is an object
# {"rules": [...], "reason": "...", "path": ["waivers", i]}: `path` locates the waiver in the
# policy data, and a waiver without a reason still produces its exception so that the evaluator
# reports it (SALAM-POLICY-EXCEPTION) instead of ignoring it.
#
# input.waiver_positions, when Salam's evaluation provides it, lists the positions in
# data.params.waivers of the waivers naming this job: the evaluation then reads those only, not
# every waiver of the environment (evaluating N jobs cost N times the number of waivers; rego-cpp
# looks a key up in a large object no quicker). Without it (the policies' own tests, which
# replace data.params.waivers) every waiver is read.
package salam.job.waivers

import rego.v1

exception contains waived(i, waiver) if {
	some i in input.waiver_positions
	waiver := data.params.waivers[i]
	waiver.job == input.plan.job
}

exception contains waived(i, waiver) if {
	not input.waiver_positions
	some i, waiver in data.params.waivers
	waiver.job == input.plan.job
}

waived(i, waiver) := {
	"rules": object.get(waiver, "rules", []),
	"reason": object.get(waiver, "reason", ""),
	"path": ["waivers", i],
}
