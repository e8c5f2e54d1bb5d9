# Shared helpers for Salam's policies: findings and where they point, messages, references,
# cron frequency, secret scan.
#
# Written for rego-cpp (regopy): no `some k, v in` inside comprehensions, no `(?i)` in regular
# expressions, and no sprintf of strings (it writes strings made by builtins with their quotes,
# which breaks the JSON of the result): build messages with concat. See policies/README.md.
package salam.lib

import rego.v1

# A finding: every deny / warn message is an object carrying its rule id.
finding(rule, msg) := {"rule": rule, "job": job_name, "msg": msg}

# A finding that names the offending key: `path` is a list of keys (and list indices) in the
# file the input comes from: the merged job config for salam.job packages, environment.yaml for
# salam.environment packages. Diagnostics point at that key's line and column.
finding_at(rule, msg, path) := {"rule": rule, "job": job_name, "msg": msg, "path": path}

default job_name := ""

job_name := input.plan.job if is_string(input.plan.job)

job_name := input.job.name if {
	not is_string(input.plan.job)
	is_string(input.job.name)
}

# Expected Kubernetes / Temporal namespace for the environment under evaluation.
expected_namespace := replace(data.params.namespace_template, "{env}", input.environment)

# --- Messages ------------------------------------------------------------------------------

# 'value' for messages (strings only; concat, never sprintf, see the header).
quoted(value) := concat("", ["'", value, "'"])

# A number as text (sprintf of a number alone is safe).
number(n) := sprintf("%v", [n])

# --- Where plan values come from in the job config -------------------------------------------
#
# The plan is rendered from the merged job config; these paths name the config key a plan
# value comes from, for finding_at. A key the job does not write (an inherited or default
# value) is located at its nearest written ancestor, or in environment.yaml's `defaults`.

# The job's orchestration block (cron, external, temporal or kubernetes): the one key both
# runtime.orchestration and the plan hold ("" when there is not exactly one).
default block := ""

block := name if {
	names := {n | some n in object.keys(input.job.runtime.orchestration); n != "mode"; input.plan[n]}
	count(names) == 1
	some name in names
}

block_config := object.get(input.job, ["runtime", "orchestration", block], {})

# ["runtime", "orchestration", <block>, ...keys]
orchestration_path(keys) := array.concat(["runtime", "orchestration", block], keys) if block != ""

orchestration_path(_) := ["runtime", "orchestration"] if block == ""

# plan.schedule.cron: the block's schedule.cron (Temporal, Kubernetes) or its expression.
default cron_path := ["runtime", "orchestration"]

cron_path := orchestration_path(["schedule", "cron"]) if "schedule" in object.keys(block_config)

cron_path := orchestration_path(["expression"]) if {
	block != ""
	not "schedule" in object.keys(block_config)
}

# plan.retries.count: Temporal's retry_policy, the block's retries, or the job's retries.
default retries_path := ["retries", "count"]

retries_path := orchestration_path(["retry_policy", "maximum_attempts"]) if {
	"retry_policy" in object.keys(block_config)
}

retries_path := orchestration_path(["retries", "count"]) if {
	not "retry_policy" in object.keys(block_config)
	"count" in object.keys(object.get(block_config, "retries", {}))
}

# A value that points at a secret store instead of holding the secret.
is_reference(value) if {
	some scheme in data.params.secrets.reference_schemes
	startswith(value, scheme)
}

# --- Cron frequency ------------------------------------------------------------------------
#
# min_interval_minutes(cron) is the smallest gap, in minutes, between two firings that the
# 5-field cron expression can produce, computed from the minute field only (conservative):
#   * every minute set is parsed (`*`, `*/n`, `a`, `a-b`, `a-b/n`, `a/n`, and lists of them);
#   * the gap between the last minute of one hour and the first of the next counts too,
#     unless the hour field is a single number (then only one hour of the day fires);
#   * one minute per hour means 60 minutes; @hourly is 60, other @macros are a day or more.
# Undefined when the expression cannot be parsed: callers treat that as a violation.
#
# rego-cpp 1.5.2 gets min(), max() and sort() of arrays wrong, and mis-evaluates index
# arithmetic on function arguments: everything below uses set comprehensions and comparisons.

macro_minutes := {
	"@hourly": 60,
	"@daily": 1440,
	"@midnight": 1440,
	"@weekly": 10080,
	"@monthly": 40320,
	"@yearly": 525600,
	"@annually": 525600,
}

min_interval_minutes(cron) := macro_minutes[trim_space(cron)]

min_interval_minutes(cron) := smallest(gaps) if {
	fields := split(trim_space(cron), " ")
	count(fields) == 5
	minutes := minute_set(fields[0])
	gaps := _gaps(minutes, regex.match(`^[0-9]+$`, fields[1]))
}

# The smallest number of a non-empty set (min() is unreliable in rego-cpp).
smallest(xs) := x if {
	some x in xs
	count({y | some y in xs; y < x}) == 0
}

# Forward distances between firings within an hour; across the hour unless one hour fires.
_gaps(minutes, _) := {60} if count(minutes) == 1

_gaps(minutes, true) := {d | some a in minutes; some b in minutes; b > a; d := b - a} if {
	count(minutes) > 1
}

_gaps(minutes, false) := {d | some a in minutes; some b in minutes; a != b; d := _forward(a, b)} if {
	count(minutes) > 1
}

_forward(a, b) := b - a if b > a

_forward(a, b) := (60 - a) + b if b < a

minute_set(field) := result if {
	parts := split(field, ",")
	sets := [s | some p in parts; s := _part(p)]
	count(sets) == count(parts)
	result := {m | some s in sets; some m in s}
	count(result) > 0
}

_part(p) := {m | some m in numbers.range(lo, hi); (m - lo) % step == 0} if {
	[lo, hi, step] := _bounds(p)
	lo >= 0
	hi <= 59
	lo <= hi
	step > 0
}

_bounds(p) := [lo, hi, 1] if {
	not contains(p, "/")
	[lo, hi] := _range(p)
}

_bounds(p) := [lo, hi, to_number(s)] if {
	[r, s] := split(p, "/")
	regex.match(`^[0-9]+$`, s)
	[lo, hi] := _stepped_range(r)
}

_stepped_range(r) := _range(r) if not regex.match(`^[0-9]+$`, r)

_stepped_range(r) := [to_number(r), 59] if regex.match(`^[0-9]+$`, r)

_range("*") := [0, 59]

_range(r) := [to_number(r), to_number(r)] if regex.match(`^[0-9]+$`, r)

_range(r) := [to_number(a), to_number(b)] if {
	regex.match(`^[0-9]+-[0-9]+$`, r)
	[a, b] := split(r, "-")
}

# --- Secret values -------------------------------------------------------------------------
#
# secret_findings(doc) is a set of {"path": [keys], "msg": description} ("key 'password'
# holds a literal value", "a string under 'url' looks like a private key"): keys named like
# secrets holding a literal (not a reference such as vault:..., env:...), and any string
# matching a known secret shape; `path` is the key's path in doc. Keys ending in _ref are
# references by contract and are skipped. Values are never echoed.

secret_findings(doc) := union({_key_findings(doc), _value_findings(doc)})

_key_findings(doc) := {{"path": path, "msg": msg} |
	walk(doc, [at, node])
	is_object(node)
	value := node[k]
	_secret_key(k, value)
	path := array.concat(at, [k])
	msg := concat("", ["key ", quoted(k), " holds a literal value, not a reference"])
}

# Regular expressions are slow in rego-cpp (compiled per call): each pattern's `needle` is
# checked with contains() first, and only strings holding it meet the regex.
_value_findings(doc) := {{"path": path, "msg": msg} |
	walk(doc, [at, node])
	is_object(node)
	value := node[k]
	not endswith(k, "_ref")
	some text in _strings(value)
	some name in _secret_shapes(text)
	path := array.concat(at, [k])
	msg := concat("", ["a string under ", quoted(k), " looks like ", name])
}

_secret_key(k, value) if {
	is_string(value)
	trim_space(value) != ""
	lower(k) in data.params.secrets.keys
	not is_reference(value)
}

_strings(value) := {value} if is_string(value)

_strings(value) := {s | some s in value; is_string(s)} if is_array(value)

_secret_shapes(text) := {p.name |
	folded := lower(text)
	some p in data.params.secrets.value_patterns
	contains(folded, p.needle)
	regex.match(p.regex, text)
}
