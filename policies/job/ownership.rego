# Every job has an owner team (the team paged when it fails); known teams come from data.
package salam.job.ownership

import data.salam.lib
import rego.v1

deny contains lib.finding_at("SALAM-OWNER", msg, ["owner"]) if {
	not _owner
	msg := "no owner team: set `owner` in the job or the environment defaults"
}

warn contains lib.finding_at("SALAM-OWNER-UNKNOWN", msg, ["owner"]) if {
	owner := _owner
	count(data.params.teams) > 0
	not owner in data.params.teams
	msg := concat("", ["owner ", lib.quoted(owner), " is not a known team (policies/data: teams)"])
}

_owner := input.job.owner if {
	is_string(input.job.owner)
	trim_space(input.job.owner) != ""
}
