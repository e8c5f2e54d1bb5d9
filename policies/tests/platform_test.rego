# Unit tests for Temporal, Kubernetes, ownership and secrets policies.
package tests.salam.platform

import data.salam.job.kubernetes
import data.salam.job.ownership
import data.salam.job.secrets
import data.salam.job.temporal
import rego.v1

test_wrong_namespace_and_queue_denied if {
	ids := {f.rule | some f in temporal.deny} with input.environment as "prod"
		with input.environment_settings as {"temporal": {"task_queues": ["spark-ingest-prod"]}}
		with input.plan as {"job": "j", "temporal": {"namespace": "ingestion-uat", "task_queue": "spark-ingest-uat"}, "schedule": {"catchup_window_seconds": 60}}
	ids == {"SALAM-TEMPORAL-NAMESPACE", "SALAM-TEMPORAL-TASK-QUEUE"}
}

test_catchup_window_over_a_day_denied if {
	ids := {f.rule | some f in temporal.deny} with input.environment as "prod"
		with input.environment_settings as {"temporal": {"task_queues": ["q"]}}
		with input.plan as {"job": "j", "temporal": {"namespace": "ingestion-prod", "task_queue": "q"}, "schedule": {"catchup_window_seconds": 172800}}
	ids == {"SALAM-TEMPORAL-CATCHUP"}
}

test_catchup_limit_comes_from_data if {
	count(temporal.deny) == 0 with input.environment as "prod"
		with input.environment_settings as {"temporal": {"task_queues": ["q"]}}
		with input.plan as {"job": "j", "temporal": {"namespace": "ingestion-prod", "task_queue": "q"}, "schedule": {"catchup_window_seconds": 172800}}
		with data.params.temporal.max_catchup_window_seconds as 259200
}

test_cronjob_must_forbid_concurrency if {
	ids := {f.rule | some f in kubernetes.deny} with input.environment as "dev"
		with input.plan as {"job": "j", "kubernetes": {"namespace": "ingestion-dev", "concurrency_policy": "Allow"}}
	ids == {"SALAM-K8S-CONCURRENCY"}
}

test_missing_owner_denied if {
	ids := {f.rule | some f in ownership.deny} with input.job as {"name": "j"}
	ids == {"SALAM-OWNER"}
}

test_unknown_team_warned if {
	ids := {f.rule | some f in ownership.warn} with input.job as {"name": "j", "owner": "nobody"}
	ids == {"SALAM-OWNER-UNKNOWN"}
}

test_literal_password_denied if {
	count(secrets.deny) == 1 with input.job as {"name": "j", "source": {"password": "hunter2"}}
		with input.plan as {"job": "j"}
}

test_password_ref_allowed if {
	count(secrets.deny) == 0 with input.job as {"name": "j", "source": {"password_ref": "vault:secret/x#password"}}
		with input.plan as {"job": "j"}
}

test_url_with_password_denied if {
	count(secrets.deny) == 1 with input.job as {"name": "j", "source": {"jdbc_url": "jdbc:postgresql://u:pw@db:5432/x"}}
		with input.plan as {"job": "j"}
}

# The evaluator's pre-selection (input.secret_scan) is what the scan walks, when it is given.
test_secret_scan_walks_the_preselected_parts if {
	count(secrets.deny) == 0 with input.job as {"name": "j", "source": {"password": "hunter2"}}
		with input.plan as {"job": "j"}
		with input.secret_scan as {"job": {}, "plan": {}}
	count(secrets.deny) == 1 with input.job as {"name": "j"}
		with input.plan as {"job": "j"}
		with input.secret_scan as {"job": {"source": {"password": "hunter2"}}, "plan": {}}
}

test_literal_webhook_warned if {
	ids := {f.rule | some f in secrets.warn} with input.job as {"name": "j"}
		with input.plan as {"job": "j", "alerts": {"webhook": "https://alerts.example.com/hook"}}
	ids == {"SALAM-ALERT-WEBHOOK-LITERAL"}
}
