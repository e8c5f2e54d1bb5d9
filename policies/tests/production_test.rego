# Unit tests for salam.job.production. rego-cpp 1.5.2 mis-evaluates `with input as {...}`:
# tests replace input's top-level keys one by one (`with input.plan as {...}`).
package tests.salam.production

import data.salam.job.production
import rego.v1

test_retries_below_minimum_denied if {
	ids := {f.rule | some f in production.deny} with input.environment as "prod"
		with input.plan as {"job": "j", "retries": {"count": 2}, "alerts": {"email": ["a@example.com"]}}
		with data.params.production as {"min_retries": 3, "require_alert_target": true}
	ids == {"SALAM-PROD-RETRIES"}
}

test_retries_at_minimum_allowed if {
	count(production.deny) == 0 with input.environment as "prod"
		with input.plan as {"job": "j", "retries": {"count": 3}, "alerts": {"webhook": "env:HOOK"}}
		with data.params.production as {"min_retries": 3, "require_alert_target": true}
}

test_no_alert_target_denied if {
	ids := {f.rule | some f in production.deny} with input.environment as "prod"
		with input.plan as {"job": "j", "retries": {"count": 5}, "alerts": {"email": [], "webhook": null}}
		with data.params.production as {"min_retries": 3, "require_alert_target": true}
	ids == {"SALAM-PROD-ALERTS"}
}

test_not_enforced_without_production_data if {
	count(production.deny) == 0 with input.environment as "dev"
		with input.plan as {"job": "j", "retries": {"count": 0}, "alerts": {}}
		with data.params.production as {}
}
