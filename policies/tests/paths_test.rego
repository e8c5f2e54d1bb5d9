# Unit tests for where findings point (salam.lib path helpers, finding paths) and for waivers.
package tests.salam.paths

import data.salam.job.kubernetes
import data.salam.job.production
import data.salam.job.schedule
import data.salam.job.secrets
import data.salam.job.temporal
import data.salam.job.waivers
import data.salam.lib
import rego.v1

# rego-cpp breaks on `with x as <reference>`: job configs are written out as literals.

test_block_is_the_key_job_and_plan_share if {
	lib.block == "temporal" with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "temporal": {"schedule": {"cron": "0 * * * *"}, "retry_policy": {"maximum_attempts": 2}}}}} with input.plan as {"job": "j", "temporal": {}}
	lib.block == "external" with input.job as {"name": "j", "retries": {"count": 1}, "runtime": {"orchestration": {"mode": "airflow", "external": {"expression": "*/5 * * * *"}}}} with input.plan as {"job": "j", "external": {}}
}

test_block_ignores_blocks_the_plan_does_not_have if {
	lib.block == "temporal" with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "cron": {"expression": "0 * * * *"}, "temporal": {}}}}
		with input.plan as {"job": "j", "temporal": {}}
}

test_paths_follow_the_mode_block if {
	lib.cron_path == ["runtime", "orchestration", "temporal", "schedule", "cron"] with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "temporal": {"schedule": {"cron": "0 * * * *"}, "retry_policy": {"maximum_attempts": 2}}}}}
		with input.plan as {"job": "j", "temporal": {}}
	lib.cron_path == ["runtime", "orchestration", "external", "expression"] with input.job as {"name": "j", "retries": {"count": 1}, "runtime": {"orchestration": {"mode": "airflow", "external": {"expression": "*/5 * * * *"}}}}
		with input.plan as {"job": "j", "external": {}}
	lib.retries_path == ["runtime", "orchestration", "temporal", "retry_policy", "maximum_attempts"] with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "temporal": {"schedule": {"cron": "0 * * * *"}, "retry_policy": {"maximum_attempts": 2}}}}}
		with input.plan as {"job": "j", "temporal": {}}
	lib.retries_path == ["retries", "count"] with input.job as {"name": "j", "retries": {"count": 1}, "runtime": {"orchestration": {"mode": "airflow", "external": {"expression": "*/5 * * * *"}}}}
		with input.plan as {"job": "j", "external": {}}
}

test_block_retries_win_over_job_retries if {
	lib.retries_path == ["runtime", "orchestration", "external", "retries", "count"] with input.job as {"name": "j", "retries": {"count": 1}, "runtime": {"orchestration": {"mode": "airflow", "external": {"expression": "0 * * * *", "retries": {"count": 2}}}}}
		with input.plan as {"job": "j", "external": {}}
}

test_paths_without_a_job_config_point_at_orchestration if {
	lib.orchestration_path(["namespace"]) == ["runtime", "orchestration"] with input.plan as {"job": "j"}
}

test_denies_carry_paths if {
	paths := {f.rule: f.path | some f in temporal.deny} with input.environment as "prod"
		with input.environment_settings as {"temporal": {"task_queues": ["q"]}}
		with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "temporal": {"schedule": {"cron": "0 * * * *"}, "retry_policy": {"maximum_attempts": 2}}}}}
		with input.plan as {"job": "j", "temporal": {"namespace": "ingestion-uat", "task_queue": "x"}, "schedule": {"catchup_window_seconds": 60}}
	paths == {
		"SALAM-TEMPORAL-NAMESPACE": ["runtime", "orchestration", "temporal", "namespace"],
		"SALAM-TEMPORAL-TASK-QUEUE": ["runtime", "orchestration", "temporal", "task_queue"],
	}
}

test_kubernetes_and_schedule_denies_carry_paths if {
	k8s := {f.path | some f in kubernetes.deny} with input.environment as "dev"
		with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "kubernetes", "kubernetes": {}}}}
		with input.plan as {"job": "j", "kubernetes": {"namespace": "ingestion-dev", "concurrency_policy": "Allow"}}
	k8s == {["runtime", "orchestration", "kubernetes", "concurrency_policy"]}
	cron := {f.path | some f in schedule.deny} with input.environment as "prod"
		with input.job as {"name": "j", "retries": {"count": 1}, "runtime": {"orchestration": {"mode": "airflow", "external": {"expression": "*/5 * * * *"}}}}
		with input.plan as {"job": "j", "external": {}, "schedule": {"cron": "*/5 * * * *"}}
		with data.params.production as {"min_schedule_interval_minutes": 15}
	cron == {["runtime", "orchestration", "external", "expression"]}
}

test_retries_deny_points_at_retry_policy if {
	paths := {f.path | some f in production.deny} with input.environment as "prod"
		with input.job as {"name": "j", "runtime": {"orchestration": {"mode": "temporal", "temporal": {"schedule": {"cron": "0 * * * *"}, "retry_policy": {"maximum_attempts": 2}}}}}
		with input.plan as {"job": "j", "temporal": {}, "retries": {"count": 1}, "alerts": {"email": ["a@example.com"]}}
		with data.params.production as {"min_retries": 3, "require_alert_target": true}
	paths == {["runtime", "orchestration", "temporal", "retry_policy", "maximum_attempts"]}
}

test_secret_key_path if {
	paths := {f.path | some f in secrets.deny} with input.job as {"name": "j", "source": {"tables": [{"password": "x"}]}}
		with input.plan as {"job": "j"}
	paths == {["source", "tables", 0, "password"]}
}

test_messages_quote_values_with_concat if {
	msgs := {f.msg | some f in temporal.deny} with input.environment as "dev"
		with input.environment_settings as {"temporal": {"task_queues": ["a", "b"]}}
		with input.plan as {"job": "j", "temporal": {"namespace": "ingestion-dev", "task_queue": "c"}}
	msgs == {"task queue 'c' is not one of the environment's task_queues (a, b)"}
}

test_waiver_becomes_an_exception_with_its_data_path if {
	found := waivers.exception with input.plan as {"job": "b"}
		with data.params.waivers as [
			{"job": "a", "rules": ["X"], "reason": "r"},
			{"job": "b", "rules": ["Y"], "reason": "because (T-1)"},
		]
	found == {{"rules": ["Y"], "reason": "because (T-1)", "path": ["waivers", 1]}}
}

test_waiver_without_reason_is_still_an_exception if {
	found := waivers.exception with input.plan as {"job": "b"}
		with data.params.waivers as [{"job": "b", "rules": ["Y"]}]
	found == {{"rules": ["Y"], "reason": "", "path": ["waivers", 0]}}
}
