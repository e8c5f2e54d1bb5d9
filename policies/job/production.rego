# Production-grade jobs: enough retries and someone to alert. Enabled per environment by
# data.params.production (policies/data/prod.yaml sets it).
package salam.job.production

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-PROD-RETRIES", msg) if {
	minimum := data.params.production.min_retries
	retries := object.get(input.plan, ["retries", "count"], 0)
	retries < minimum
	msg := sprintf("retries %v < %v required in %s", [retries, minimum, input.environment])
}

deny contains lib.finding("SALAM-PROD-ALERTS", msg) if {
	data.params.production.require_alert_target
	not _has_alert_target
	msg := sprintf("no alert target (alerts.email or alerts.webhook) in %s", [input.environment])
}

_has_alert_target if count(object.get(input.plan, ["alerts", "email"], [])) > 0

_has_alert_target if {
	webhook := input.plan.alerts.webhook
	is_string(webhook)
	trim_space(webhook) != ""
}
