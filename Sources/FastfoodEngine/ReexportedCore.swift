// Clients of the engine (the boundary, the tests) see the shared data types too.
@_exported import FastfoodCore
