package cluster

// DrainQueue exposes Worker.drainQueue to the tests of package
// cluster_test.
var DrainQueue = (*Worker).drainQueue
