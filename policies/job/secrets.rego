# No secret values in a job's config or plan (defence in depth: the schema already asks for
# *_ref fields). Messages name the key and the kind of secret, never the value.
package salam.job.secrets

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-SECRET-VALUE", msg) if {
	some where in data.params.secrets.scan
	some finding in lib.secret_findings(input[where])
	msg := sprintf("%s: %s", [where, finding])
}

warn contains lib.finding("SALAM-ALERT-WEBHOOK-LITERAL", msg) if {
	webhook := input.plan.alerts.webhook
	is_string(webhook)
	webhook != ""
	not lib.is_reference(webhook)
	msg := "alerts.webhook is a literal URL; use env: or vault: (webhook URLs often embed tokens)"
}
