# Documented waivers (conftest `exception`): data.params.waivers lists, per environment, the
# jobs and rule ids waived with the reason (and ideally a ticket). Each exception is an object
# {"rules": [...], "reason": "..."}; the evaluator rejects an exception without a reason.
package salam.job.waivers

import rego.v1

exception contains {"rules": waiver.rules, "reason": waiver.reason} if {
	some waiver in data.params.waivers
	waiver.job == input.plan.job
}
