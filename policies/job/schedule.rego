# Schedules must not fire too often (from the 5-field cron; see salam.lib for the method).
# Enabled per environment by data.params.production.min_schedule_interval_minutes.
package salam.job.schedule

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-PROD-SCHEDULE-FREQUENCY", msg) if {
	limit := data.params.production.min_schedule_interval_minutes
	cron := input.plan.schedule.cron
	interval := lib.min_interval_minutes(cron)
	interval < limit
	msg := sprintf("schedule '%s' fires every %v minute(s); at least %v required in %s", [
		cron, interval, limit, input.environment,
	])
}

deny contains lib.finding("SALAM-PROD-SCHEDULE-FREQUENCY", msg) if {
	data.params.production.min_schedule_interval_minutes
	cron := input.plan.schedule.cron
	not lib.min_interval_minutes(cron)
	msg := sprintf("cannot tell how often schedule '%s' fires (not a 5-field cron)", [cron])
}
