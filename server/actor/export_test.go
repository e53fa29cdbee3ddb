package actor

// RunLoad is runLoad for the benchmarks of package actor_test, which
// bring metrics (server/metrics imports this package).
var RunLoad = runLoad
