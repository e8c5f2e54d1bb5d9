# Schedules must not fire too often (from the 5-field cron; see salam.lib for the method).
# Enabled per environment by data.params.production.min_schedule_interval_minutes.
package salam.job.schedule

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-PROD-SCHEDULE-FREQUENCY", msg, lib.cron_path) if {
	limit := data.params.production.min_schedule_interval_minutes
	cron := input.plan.schedule.cron
	interval := lib.min_interval_minutes(cron)
	interval < limit
	msg := concat("", [
		"schedule ", lib.quoted(cron), " fires every ", lib.number(interval),
		" minute(s); at least ", lib.number(limit), " required in ", input.environment,
	])
}

deny contains lib.finding_at("SALAM-PROD-SCHEDULE-FREQUENCY", msg, lib.cron_path) if {
	data.params.production.min_schedule_interval_minutes
	cron := input.plan.schedule.cron
	not lib.min_interval_minutes(cron)
	msg := concat("", ["cannot tell how often schedule ", lib.quoted(cron), " fires (not a 5-field cron)"])
}
