// Package sim is a discrete-event simulation of office days that drives the
// real queue engine (queue.State) with a virtual clock: residents arrive by
// the hour and take tickets, clerks open counters, call, recall, serve and
// take breaks, all through the engine's commands, so the call policy, the
// cut-off and the wait forecast under test are the ones the server runs.
//
// The residents' behaviour (arrival rates, true service times, no-shows,
// walk-up times, clerks' speeds) lives in a Profile the engine never sees:
// it learns only from the events, as in a real office. For every ticket the
// simulation records the engine's estimated wait at issue time beside the
// usual formula's (average service time x people ahead / open counters) and
// the wait that followed, and reports both errors with the day's KPIs.
package sim
