import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// `CurlHTTPClient.send`: requests with a method and headers, answered in memory with the final
/// status, headers and body, under the same redirect, retry and credential rules as `fetch`.
@Suite("CurlHTTPClient.send (in-memory requests)")
struct CurlHTTPClientSendTests {
    @Test("GET returns status, headers and body; request headers are sent")
    func getWithHeaders() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = Array(#"{"ok":true}"#.utf8)
        try faults.plan("/api", .ok(body, headers: ["Content-Type": "application/json", "X-Two": "b"]))
        let response = try CurlHTTPClient().send(TransferRequest(
            url: faults.url("/api"), headers: [HTTPHeader("Accept", "application/json, text/plain")]))
        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(!response.bodyTruncated)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("X-TWO") == "b")
        #expect(response.header("missing") == nil)
        #expect(response.attempts == 1)
        #expect(response.url == faults.url("/api"))
        let logged = try faults.requests()
        #expect(logged.map(\.method) == ["GET"])
        #expect(logged.first?.accept == "application/json, text/plain")
    }

    @Test("HEAD returns the headers and no body")
    func head() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/m", .ok(testBytes(count: 5000), headers: ["Docker-Content-Digest": "sha256:abc"]))
        let response = try CurlHTTPClient().send(TransferRequest(url: faults.url("/m"), method: .head))
        #expect(response.status == 200)
        #expect(response.body.isEmpty)
        #expect(response.header("Docker-Content-Digest") == "sha256:abc")
        #expect(response.header("Content-Length") == "5000")
        #expect(try faults.requests().map(\.method) == ["HEAD"])
    }

    @Test("a final error status is returned with its headers and body, not thrown, and not retried")
    func errorStatusReturned() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let body = Array(#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.utf8)
        try faults.plan("/v2/", .status(401, body: body, headers: ["WWW-Authenticate": #"Bearer realm="x""#]))
        let recorder = Recorder()
        let response = try makeClient(recorder: recorder).send(TransferRequest(url: faults.url("/v2/")))
        #expect(response.status == 401)
        #expect(response.body == body)
        #expect(response.headerValues("www-authenticate") == [#"Bearer realm="x""#])
        #expect(recorder.retries.isEmpty)
    }

    @Test("an error body is kept up to 64 KiB and marked truncated beyond")
    func errorBodyCap() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let big = testBytes(count: 200_000)
        try faults.plan("/big", .status(404, body: big))
        let response = try CurlHTTPClient().send(TransferRequest(url: faults.url("/big")))
        #expect(response.status == 404)
        #expect(response.bodyTruncated)
        #expect(response.body == Array(big.prefix(64 * 1024)))
    }

    @Test("a success body over maxBytes fails with sizeLimitExceeded; the default limit is 4 MiB")
    func bodyLimit() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/x", .ok(testBytes(count: 10_000)))
        let url = faults.url("/x")
        let client = CurlHTTPClient(options: quickOptions())
        #expect(throws: TransportError.sizeLimitExceeded(url: url, limit: 1000)) {
            try client.send(TransferRequest(url: url, maxBytes: 1000))
        }
        try faults.plan("/huge", .ok(testBytes(count: 5 << 20)))
        let huge = faults.url("/huge")
        #expect(throws: TransportError.sizeLimitExceeded(url: huge, limit: CurlHTTPClient.defaultResponseLimit)) {
            try client.send(TransferRequest(url: huge))
        }
    }

    @Test("503 then 200 is retried as fetch does; a persisting 503 is thrown as httpStatus")
    func retries() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/flaky", .status(503), .ok(Array("fine".utf8)))
        let recorder = Recorder()
        let response = try makeNonSleepingClient(recorder: recorder).send(TransferRequest(url: faults.url("/flaky")))
        #expect(response.status == 200)
        #expect(response.attempts == 2)
        #expect(recorder.retries.count == 1)
        try faults.plan("/down", .status(503))
        let url = faults.url("/down")
        #expect(throws: TransportError.httpStatus(url: url, code: 503)) {
            try makeNonSleepingClient(quickOptions(maxAttempts: 2), recorder: recorder).send(TransferRequest(url: url))
        }
    }

    @Test("redirects are followed with the headers kept and the credentials only on the original origin")
    func redirectRules() throws {
        let faults = try FaultServer()
        defer { faults.stop() }
        let moved = faults.url("/moved", host: "localhost")
        try faults.plan("/start", .redirect(to: moved, status: 307))
        try faults.plan("/moved", .ok([], headers: ["Docker-Content-Digest": "sha256:0"]))
        let response = try CurlHTTPClient().send(TransferRequest(
            url: faults.url("/start"), credentials: .bearer(token: "tok-redirect-secret"), method: .head,
            headers: [HTTPHeader("Accept", "application/vnd.oci.image.index.v1+json")]))
        #expect(response.status == 200)
        #expect(response.url == moved)
        #expect(response.header("Docker-Content-Digest") == "sha256:0")
        let logged = try faults.requests()
        #expect(logged.map(\.path) == ["/start", "/moved"])
        #expect(logged.map(\.method) == ["HEAD", "HEAD"])
        #expect(logged[0].authorization == "Bearer tok-redirect-secret")
        #expect(logged[1].authorization == nil)
        #expect(logged.map(\.accept) == ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.index.v1+json"])
    }

    @Test("invalid headers and Authorization headers are refused before anything is sent", arguments: [
        HTTPHeader("Authorization", "Bearer x"), HTTPHeader("authorization", "Basic eA=="),
        HTTPHeader("X-Evil", "a\r\nInjected: yes"), HTTPHeader("Bad Name", "v"), HTTPHeader("", "v"),
    ])
    func invalidHeaders(header: HTTPHeader) throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        let request = TransferRequest(url: faults.url("/x"), headers: [header])
        #expect(throws: TransportError.invalidHeader(name: header.name)) {
            try CurlHTTPClient().send(request)
        }
        #expect(fetchError(CurlHTTPClient(), request, to: dir.file("out")) == .invalidHeader(name: header.name))
        #expect(!fileExists(dir.file("out")))
        #expect(try faults.requests().isEmpty)
    }

    @Test("fetch sends request headers and HEAD too (the same mechanism)")
    func fetchWithHeaders() throws {
        let dir = try TemporaryDirectory()
        let faults = try FaultServer()
        defer { faults.stop() }
        try faults.plan("/f", .ok(Array("body".utf8)))
        let result = try CurlHTTPClient().fetch(
            TransferRequest(url: faults.url("/f"), headers: [HTTPHeader("Accept", "text/plain")]), to: dir.file("out"))
        #expect(result.bytes == 4)
        let head = try CurlHTTPClient().fetch(TransferRequest(url: faults.url("/f"), method: .head), to: dir.file("head"))
        #expect(head.bytes == 0)
        #expect(try faults.requests().map { "\($0.method) \($0.accept ?? "-")" } == ["GET text/plain", "HEAD */*"])
    }
}
