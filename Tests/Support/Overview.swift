// ChartSyncTestSupport: real servers on 127.0.0.1 for integration tests (no SwiftPM resources:
// the Python scripts are found next to this file through #filePath).
//
//     import ChartSyncTestSupport
//
//     let dir = try TemporaryDirectory()                       // removed on deinit
//     try dir.write("www/index.yaml", Array("apiVersion: v1\n".utf8))
//     let nginx = try StaticServer(root: dir.file("www"), options: .init(
//         tls: true,                                           // test CA: nginx.caFile, nginx.pki
//         basicAuth: .init(username: "alice", password: "pw"),
//         snippets: ["location = /old { return 301 http://localhost:{{PORT}}/index.yaml; }"]))
//     defer { nginx.stop() }
//     nginx.url("index.yaml")                                  // https://127.0.0.1:PORT/index.yaml
//     nginx.accessLog()                                        // ["GET /index.yaml 200 alice 127.0.0.1:PORT"]
//
//     let faults = try FaultServer()
//     defer { faults.stop() }
//     try faults.plan("/index.yaml", .status(503, headers: ["Retry-After": "1"]), .ok(bytes))
//     try faults.plan("/a", .redirect(to: faults.url("/b", host: "localhost")))
//     try faults.plan("/b", .echoAuthorization)
//     try faults.requests(path: "/b").first?.authorization   // what the server received
//     try faults.requireAuthorization(prefix: "/v2/", authorization: "Basic ...",  // else 401 with
//                                     challenge: #"Basic realm="r""#)            // this challenge
//
// Every server is its own process on its own port, so tests may run in parallel; each stops on
// stop() or deinit, and exits by itself when the test process dies.
