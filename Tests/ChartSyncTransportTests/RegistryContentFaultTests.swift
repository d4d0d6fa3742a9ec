import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

/// The SHA-256 of `bytes` as `sha256:<hex>`, computed by the `sha256sum` tool.
private func digestOf(_ bytes: [UInt8]) throws -> String {
    let dir = try TemporaryDirectory()
    return "sha256:" + (try sha256sum(file: try dir.write("body", bytes)))
}

/// A small OCI manifest for a chart whose layer is `layer`.
private func chartManifest(layer: [UInt8], layerDigest: String) -> [UInt8] {
    Array("""
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
    "config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:\(String(repeating: "1", count: 64))","size":10},\
    "layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"\(layerDigest)","size":\(layer.count)}]}
    """.utf8)
}

private let ociType = ["Content-Type": "application/vnd.oci.image.manifest.v1+json"]

/// `RegistryClient.tags`, `manifest` and `blob` against the scriptable fault server posing as a
/// registry: wrong bytes, redirects to object storage, retries, pagination links.
@Suite("RegistryClient tags, manifests and blobs against a scripted registry")
struct RegistryContentFaultTests {
    let faults: FaultServer
    var name: String { "127.0.0.1:\(faults.port)" }
    let tagsPath = "/v2/charts/hello/tags/list"

    init() throws {
        faults = try FaultServer()
    }

    func bearerChallenge() -> [String: String] {
        ["WWW-Authenticate": #"Bearer realm="\#(faults.url("/token"))",service="fault-registry",scope="repository:charts/hello:pull""#]
    }

    // MARK: Blobs

    @Test("a blob whose bytes do not hash to its digest is blobMismatch (verification); no file is left, an old one is untouched")
    func blobDigestMismatch() throws {
        defer { faults.stop() }
        let wanted = testBytes(count: 3000, seed: 1)
        let served = testBytes(count: 3000, seed: 2)
        let digest = try digestOf(wanted)
        let path = "/v2/charts/hello/blobs/\(digest)"
        try faults.plan(path, .ok(served))
        let dir = try TemporaryDirectory()
        let old = try dir.write("chart.tgz", Array("previous bytes".utf8))
        let error = try expectRegistryError {
            try registryClient(for: name).blob(repository: "charts/hello", registry: name, digest: digest, size: 3000, to: old)
        }
        #expect(error == .blobMismatch(blob: "\(name)/charts/hello@\(digest)", url: faults.url(path),
                                       expected: digest, actual: try digestOf(served)))
        #expect(error?.category == .verification)
        #expect(error?.description.contains("\(name)/charts/hello@\(digest)") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["chart.tgz"])
        #expect(contents(old) == Array("previous bytes".utf8))
        // Without a previous file, nothing at all is left.
        try FileManager.default.removeItem(atPath: old)
        _ = try expectRegistryError {
            try registryClient(for: name).blob(repository: "charts/hello", registry: name, digest: digest, size: 3000, to: old)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a blob of another size than its descriptor's is blobSizeMismatch; no file is left", arguments: [
        (2999, Int64?.some(2999)), (3001, nil),
    ])
    func blobSizeMismatch(servedCount: Int, reported: Int64?) throws {
        defer { faults.stop() }
        let wanted = testBytes(count: 3000, seed: 1)
        let digest = try digestOf(wanted)
        let path = "/v2/charts/hello/blobs/\(digest)"
        try faults.plan(path, .ok(testBytes(count: servedCount, seed: 1)))
        let dir = try TemporaryDirectory()
        let error = try expectRegistryError {
            try registryClient(for: name).blob(repository: "charts/hello", registry: name, digest: digest, size: 3000,
                                               to: dir.file("blob"))
        }
        #expect(error == .blobSizeMismatch(blob: "\(name)/charts/hello@\(digest)", url: faults.url(path),
                                           expected: 3000, actual: reported))
        #expect(error?.category == .verification)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a blob redirected (307) to object storage on another host gets there without any Authorization",
          arguments: [false, true])
    func blobRedirectDropsCredentials(allowCredentialsOnRedirect: Bool) throws {
        defer { faults.stop() }
        let body = testBytes(count: 5000, seed: 3)
        let digest = try digestOf(body)
        let path = "/v2/charts/hello/blobs/\(digest)"
        let storage = faults.url("/storage/blob?X-Amz-Signature=abc", host: "localhost")
        try faults.plan(path, .status(401, headers: bearerChallenge()), .status(401, headers: bearerChallenge()),
                        .redirect(to: storage, status: 307))
        try faults.plan("/token", .ok(Array(#"{"token":"tok-registry-only-77"}"#.utf8)))
        try faults.plan("/storage/blob", .ok(body))
        var options = quickOptions()
        options.allowCredentialsOnRedirect = allowCredentialsOnRedirect
        let client = RegistryClient(endpoints: [name: RegistryEndpoint(
            plainHTTP: true, credentials: .basic(username: "alice", password: "pw-registry-only-1"), transport: options)])
        let dir = try TemporaryDirectory()
        let result = try client.blob(repository: "charts/hello", registry: name, digest: digest, size: 5000,
                                     to: dir.file("blob"))
        #expect(contents(dir.file("blob")) == body)
        #expect(result.url.hasPrefix("http://localhost:\(faults.port)/storage/blob"))

        // At the registry: the fetch (401), the HEAD learning the challenge (401, then with the
        // token: 307, not followed), the fetch with the token (307, followed).
        let atRegistry = try faults.requests(path: path)
        #expect(atRegistry.map(\.method) == ["GET", "HEAD", "HEAD", "GET"])
        #expect(atRegistry.map(\.authorization) == [nil, nil, "Bearer tok-registry-only-77", "Bearer tok-registry-only-77"])
        #expect(try faults.requests(path: "/token").first?.authorization?.hasPrefix("Basic ") == true)
        let atStorage = try faults.requests(path: "/storage/blob")
        #expect(atStorage.count == 1)
        #expect(atStorage.first?.host == "localhost:\(faults.port)")
        #expect(atStorage.first?.authorization == nil)
    }

    @Test("a blob answered 503 then 200 is retried and proven")
    func blobRetried() throws {
        defer { faults.stop() }
        let body = testBytes(count: 2048, seed: 4)
        let digest = try digestOf(body)
        try faults.plan("/v2/charts/hello/blobs/\(digest)", .status(503), .ok(body))
        let recorder = Recorder()
        let dir = try TemporaryDirectory()
        let result = try registryClient(for: name, recorder: recorder)
            .blob(repository: "charts/hello", registry: name, digest: digest, size: 2048, to: dir.file("blob"))
        #expect(result.attempts == 2)
        #expect(recorder.retries.count == 1)
        #expect(contents(dir.file("blob")) == body)
    }

    @Test("a blob the registry refuses the credentials for is authenticationFailed; the password is never shown")
    func blobRefused() throws {
        defer { faults.stop() }
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        try faults.plan("/v2/charts/hello/blobs/\(digest)", .status(401, headers: ["WWW-Authenticate": #"Basic realm="r""#]))
        let dir = try TemporaryDirectory()
        let error = try expectRegistryError {
            try registryClient(for: name, credentials: .basic(username: "alice", password: "pw-wrong-123"))
                .blob(repository: "charts/hello", registry: name, digest: digest, size: 1, to: dir.file("blob"))
        }
        guard case let .authenticationFailed(registry, reason)? = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(reason.contains("\"alice\""))
        for text in texts(error) { #expect(!text.contains("pw-wrong-123")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("blob requests outside the grammar are refused before any request (input)", arguments: [
        ("charts/hello", "sha512:" + String(repeating: "a", count: 128), Int64(1)),
        ("charts/hello", "sha256:" + String(repeating: "A", count: 64), 1),
        ("charts/hello", "sha256:" + String(repeating: "a", count: 64), -1),
        ("Charts/Hello", "sha256:" + String(repeating: "a", count: 64), 1),
    ])
    func invalidBlobRequests(repository: String, digest: String, size: Int64) throws {
        defer { faults.stop() }
        let dir = try TemporaryDirectory()
        let error = try expectRegistryError {
            try registryClient(for: name).blob(repository: repository, registry: name, digest: digest, size: size,
                                               to: dir.file("blob"))
        }
        guard case .invalidReference? = error else {
            Issue.record("expected invalidReference, got \(String(describing: error))")
            return
        }
        #expect(try faults.requests().isEmpty)
    }

    // MARK: Manifests

    @Test("a manifest fetched by digest whose bytes hash to another is manifestMismatch naming the URL (verification)")
    func manifestByDigestMismatch() throws {
        defer { faults.stop() }
        let body = chartManifest(layer: [1, 2, 3], layerDigest: "sha256:" + String(repeating: "2", count: 64))
        let wanted = "sha256:" + String(repeating: "cd", count: 32)
        let path = "/v2/charts/hello/manifests/\(wanted)"
        try faults.plan(path, .ok(body, headers: ociType))
        let error = try expectRegistryError {
            try registryClient(for: name).manifest(registry: name, repository: "charts/hello", reference: wanted)
        }
        #expect(error == .manifestMismatch(image: "\(name)/charts/hello@\(wanted)", url: faults.url(path),
                                           expected: wanted, actual: try digestOf(body)))
        #expect(error?.category == .verification)
        #expect(error?.description.contains(faults.url(path)) == true)
    }

    @Test("a manifest fetched by tag: digest from the bytes; a Docker-Content-Digest that disagrees is manifestMismatch")
    func manifestByTag() throws {
        defer { faults.stop() }
        let body = chartManifest(layer: [1, 2, 3], layerDigest: "sha256:" + String(repeating: "2", count: 64))
        let actual = try digestOf(body)
        let path = "/v2/charts/hello/manifests/1.0.0"
        // No digest header, then the right one, then a wrong one.
        let other = "sha256:" + String(repeating: "ef", count: 32)
        try faults.plan(path, .ok(body, headers: ociType),
                        .ok(body, headers: ociType.merging(["Docker-Content-Digest": actual]) { a, _ in a }),
                        .ok(body, headers: ociType.merging(["Docker-Content-Digest": other]) { a, _ in a }))
        let client = registryClient(for: name)
        for _ in 0..<2 {
            let fetched = try client.manifest(registry: name, repository: "charts/hello", reference: "1.0.0")
            #expect(fetched.digest == actual)
            #expect(fetched.bytes == body)
            #expect(fetched.manifest.layers.first?.size == 3)
        }
        let error = try expectRegistryError {
            try client.manifest(registry: name, repository: "charts/hello", reference: "1.0.0")
        }
        #expect(error == .manifestMismatch(image: "\(name)/charts/hello:1.0.0", url: faults.url(path),
                                           expected: other, actual: actual))
        // The Accept header names the four manifest types.
        #expect(try faults.requests(path: path).allSatisfy {
            $0.accept == RegistryClient.manifestMediaTypes.joined(separator: ", ")
        })
    }

    @Test("a proven manifest whose content is malformed, or too large, is refused", arguments: [
        (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:\#(String(repeating: "1", count: 64))","size":-5},"layers":[]}"#,
         "config.size is negative"),
        (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:xyz","size":5},"layers":[]}"#,
         "config.digest \"sha256:xyz\" is not a digest"),
        (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[]}"#,
         "is not an OCI or Docker v2 image manifest or index"),
        ("<html>login portal</html>", "not JSON"),
    ])
    func malformedManifest(body: String, reason: String) throws {
        defer { faults.stop() }
        let path = "/v2/charts/hello/manifests/1.0.0"
        try faults.plan(path, .ok(Array(body.utf8), headers: ociType))
        let error = try expectRegistryError {
            try registryClient(for: name).manifest(registry: name, repository: "charts/hello", reference: "1.0.0")
        }
        guard case let .malformedResponse(registry, url, text)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(url == faults.url(path))
        #expect(text.contains(reason), "\(text)")
    }

    @Test("a manifest larger than 4 MiB is refused (sizeLimitExceeded)")
    func manifestTooLarge() throws {
        defer { faults.stop() }
        let path = "/v2/charts/hello/manifests/1.0.0"
        try faults.plan(path, .ok([UInt8](repeating: 0x20, count: (4 << 20) + 1), headers: ociType))
        let error = try expectRegistryError {
            try registryClient(for: name).manifest(registry: name, repository: "charts/hello", reference: "1.0.0")
        }
        #expect(error == .transport(registry: name, .sizeLimitExceeded(url: faults.url(path), limit: 4 << 20)))
    }

    // MARK: Tags

    @Test("tags follow Link pagination: absolute path, relative path, query-only and same-origin absolute links")
    func tagPagination() throws {
        defer { faults.stop() }
        func page(_ tags: [String], next: String?) -> FaultResponse {
            let body = Array(#"{"name":"charts/hello","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]}"#.utf8)
            var headers = ["Content-Type": "application/json"]
            if let next { headers["Link"] = next }
            return .ok(body, headers: headers)
        }
        try faults.plan(tagsPath,
                        page(["1.0.0", "1.1.0"], next: #"</v2/charts/hello/tags/list?last=1.1.0&n=2>; rel="next""#),
                        page(["1.2.0", "1.3.0"], next: #"<list?last=1.3.0&n=2>; rel="next""#),
                        page(["2.0.0", "2.1.0"], next: #"<?last=2.1.0&n=2>; rel=next"#),
                        page(["3.0.0"], next: #"<\#(faults.url("/x"))>; rel="prev", <\#(faults.url(tagsPath))?last=3.0.0&n=2>; rel="next""#),
                        page([], next: nil))
        let tags = try registryClient(for: name).tags(repository: "charts/hello", registry: name, pageSize: 2)
        #expect(tags == ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0", "3.0.0"])
        #expect(try faults.requests(path: tagsPath).map(\.path) == [
            tagsPath + "?n=2", tagsPath + "?last=1.1.0&n=2", tagsPath + "?last=1.3.0&n=2",
            tagsPath + "?last=2.1.0&n=2", tagsPath + "?last=3.0.0&n=2",
        ])
    }

    @Test("a tag list answered 503 then 200 is retried; a null tag list is empty")
    func tagsRetried() throws {
        defer { faults.stop() }
        try faults.plan(tagsPath, .status(503), .ok(Array(#"{"name":"charts/hello","tags":null}"#.utf8)))
        let recorder = Recorder()
        #expect(try registryClient(for: name, recorder: recorder).tags(repository: "charts/hello", registry: name) == [])
        #expect(recorder.retries.count == 1)
    }

    @Test("tag lists that cannot be followed are malformedResponse (io)", arguments: [
        (#"<http://localhost:PORT/v2/charts/hello/tags/list?last=a>; rel="next""#, "leads away from the registry's origin"),
        (#"<//elsewhere.example/v2/charts/hello/tags/list?last=a>; rel="next""#, "leads away from the registry's origin"),
        (#"<https://127.0.0.1:PORT/v2/charts/hello/tags/list?last=a>; rel="next""#, "leads away from the registry's origin"),
        (#"</v2/charts/hello/tags/list>; rel="next""#, "loop"),
    ])
    func unfollowableLinks(link: String, reason: String) throws {
        defer { faults.stop() }
        try faults.plan(tagsPath, .ok(Array(#"{"tags":["a"]}"#.utf8),
                                      headers: ["Link": link.replacingOccurrences(of: "PORT", with: String(faults.port))]))
        let error = try expectRegistryError {
            try registryClient(for: name).tags(repository: "charts/hello", registry: name)
        }
        guard case let .malformedResponse(registry, _, text)? = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(registry == name)
        #expect(text.contains(reason), "\(text)")
        #expect(error?.category == .io)
        #expect(try faults.requests().allSatisfy { $0.host == "127.0.0.1:\(faults.port)" })
    }

    @Test("tag list answers: 404 is repositoryUnknown, 403 accessDenied, a body that is no tag list malformedResponse",
          arguments: [
              (FaultResponse.status(404, body: Array(#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#.utf8)), "unknown"),
              (.status(403), "denied"),
              (.ok(Array(#"{"tags":"1.0.0"}"#.utf8)), "malformed"),
              (.ok(Array(#"{"tags":[1]}"#.utf8)), "malformed"),
              (.ok(Array("[]".utf8)), "malformed"),
          ])
    func tagAnswers(response: FaultResponse, expected: String) throws {
        defer { faults.stop() }
        try faults.plan(tagsPath, response)
        let error = try expectRegistryError {
            try registryClient(for: name).tags(repository: "charts/hello", registry: name)
        }
        switch (expected, error) {
        case ("unknown", .repositoryUnknown(let image, let registry)?):
            #expect(image == "\(name)/charts/hello")
            #expect(registry == name)
        case ("denied", .accessDenied(let image, _)?):
            #expect(image == "\(name)/charts/hello")
        case ("malformed", .malformedResponse?):
            break
        default:
            Issue.record("expected \(expected), got \(String(describing: error))")
        }
    }

    @Test("a bearer-token registry: one token serves tags, manifest and blob; only the registry sees it")
    func tokenAcrossCalls() throws {
        defer { faults.stop() }
        let layer = testBytes(count: 1000, seed: 9)
        let layerDigest = try digestOf(layer)
        let manifest = chartManifest(layer: layer, layerDigest: layerDigest)
        let blobPath = "/v2/charts/hello/blobs/\(layerDigest)"
        try faults.plan(tagsPath, .status(401, headers: bearerChallenge()), .ok(Array(#"{"tags":["1.0.0"]}"#.utf8)))
        try faults.plan("/v2/charts/hello/manifests/1.0.0", .ok(manifest, headers: ociType))
        try faults.plan(blobPath, .redirect(to: faults.url("/storage/layer", host: "localhost"), status: 307))
        try faults.plan("/storage/layer", .ok(layer))
        try faults.plan("/token", .ok(Array(#"{"token":"tok-one-for-all-5"}"#.utf8)))
        let client = registryClient(for: name)
        #expect(try client.tags(repository: "charts/hello", registry: name) == ["1.0.0"])
        let fetched = try client.manifest(registry: name, repository: "charts/hello", reference: "1.0.0")
        let descriptor = try #require(fetched.manifest.layers.first)
        let dir = try TemporaryDirectory()
        _ = try client.blob(descriptor, repository: "charts/hello", registry: name, to: dir.file("layer"))
        #expect(contents(dir.file("layer")) == layer)
        #expect(try faults.requests(path: "/token").count == 1)
        #expect(try faults.requests(path: "/v2/charts/hello/manifests/1.0.0").map(\.authorization) == ["Bearer tok-one-for-all-5"])
        #expect(try faults.requests(path: blobPath).map(\.authorization) == ["Bearer tok-one-for-all-5"])
        #expect(try faults.requests(path: "/storage/layer").map(\.authorization) == [nil])
    }
}
