# No secret values in a job's config or plan (defence in depth: the schema already asks for
# *_ref fields). Messages name the key and the kind of secret, never the value; a finding in
# the job config points at the key, one in the plan (which has no file) at the job's file.
package salam.job.secrets

import data.salam.lib
import rego.v1

deny contains _finding(where, found) if {
	some where in data.params.secrets.scan
	some found in lib.secret_findings(_scanned(where))
}

# What the scan walks: input.secret_scan[where] when the evaluator gives it (the part pruned, in
# Python and from this same data, to the members that can match: reconciler/policy/prescan.py),
# else the whole input[where].
_scanned(where) := input.secret_scan[where]

_scanned(where) := input[where] if not input.secret_scan

warn contains lib.finding_at("SALAM-ALERT-WEBHOOK-LITERAL", msg, ["alerts", "webhook"]) if {
	webhook := input.plan.alerts.webhook
	is_string(webhook)
	webhook != ""
	not lib.is_reference(webhook)
	msg := "alerts.webhook is a literal URL; use env: or vault: (webhook URLs often embed tokens)"
}

_finding("job", found) := lib.finding_at("SALAM-SECRET-VALUE", concat(": ", ["job", found.msg]), found.path)

_finding(where, found) := lib.finding("SALAM-SECRET-VALUE", concat(": ", [where, found.msg])) if {
	where != "job"
}
