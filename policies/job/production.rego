# Production-grade jobs: enough retries and someone to alert. Enabled per environment by
# data.params.production (policies/data/prod.yaml sets it).
package salam.job.production

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-PROD-RETRIES", msg, lib.retries_path) if {
	minimum := data.params.production.min_retries
	retries := object.get(input.plan, ["retries", "count"], 0)
	retries < minimum
	msg := concat("", [
		"retries ", lib.number(retries), " < ", lib.number(minimum),
		" required in ", input.environment,
	])
}

deny contains lib.finding_at("SALAM-PROD-ALERTS", msg, ["alerts"]) if {
	data.params.production.require_alert_target
	not _has_alert_target
	msg := concat("", ["no alert target (alerts.email or alerts.webhook) in ", input.environment])
}

_has_alert_target if count(object.get(input.plan, ["alerts", "email"], [])) > 0

_has_alert_target if {
	webhook := input.plan.alerts.webhook
	is_string(webhook)
	trim_space(webhook) != ""
}
