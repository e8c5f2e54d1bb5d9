# Unit tests for the cron frequency helper and salam.job.schedule.
package tests.salam.schedule

import data.salam.job.schedule
import data.salam.lib
import rego.v1

test_min_interval_of_common_expressions if {
	lib.min_interval_minutes("0 * * * *") == 60
	lib.min_interval_minutes("*/15 * * * *") == 15
	lib.min_interval_minutes("*/10 * * * *") == 10
	lib.min_interval_minutes("0,30,45 * * * *") == 15
	lib.min_interval_minutes("5/20 * * * *") == 20
	lib.min_interval_minutes("0-10/5 * * * *") == 5
	lib.min_interval_minutes("@hourly") == 60
}

test_gap_across_the_hour_counts if {
	lib.min_interval_minutes("0,50 * * * *") == 10
}

test_single_hour_has_no_wrap_gap if {
	lib.min_interval_minutes("0,50 8 * * *") == 50
}

test_unparseable_is_undefined if {
	not lib.min_interval_minutes("bad")
	not lib.min_interval_minutes("61 * * * *")
	not lib.min_interval_minutes("*/0 * * * *")
	not lib.min_interval_minutes("0 0 * *")
}

test_every_ten_minutes_denied if {
	ids := {f.rule | some f in schedule.deny} with input.environment as "prod"
		with input.plan as {"job": "j", "schedule": {"cron": "*/10 * * * *"}}
		with data.params.production as {"min_schedule_interval_minutes": 15}
	ids == {"SALAM-PROD-SCHEDULE-FREQUENCY"}
}

test_every_fifteen_minutes_allowed if {
	count(schedule.deny) == 0 with input.environment as "prod"
		with input.plan as {"job": "j", "schedule": {"cron": "*/15 * * * *"}}
		with data.params.production as {"min_schedule_interval_minutes": 15}
}

test_unparseable_schedule_denied if {
	count(schedule.deny) == 1 with input.environment as "prod"
		with input.plan as {"job": "j", "schedule": {"cron": "every minute"}}
		with data.params.production as {"min_schedule_interval_minutes": 15}
}
