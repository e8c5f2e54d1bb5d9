# Every job has an owner team (the team paged when it fails); known teams come from data.
package salam.job.ownership

import data.salam.lib
import rego.v1

deny contains lib.finding("SALAM-OWNER", "no owner team: set `owner` in the job or the environment defaults") if {
	not _owner
}

warn contains lib.finding("SALAM-OWNER-UNKNOWN", msg) if {
	owner := _owner
	count(data.params.teams) > 0
	not owner in data.params.teams
	msg := sprintf("owner '%s' is not a known team (policies/data: teams)", [owner])
}

_owner := input.job.owner if {
	is_string(input.job.owner)
	trim_space(input.job.owner) != ""
}
