import ChartSyncCore
import ChartSyncTestSupport
import ChartSyncTransport
import Foundation
import Testing

private let alice = StaticServer.BasicAuth(username: "alice", password: "Al1ce-chart-pw")

/// A real chart tarball of the example repository.
private let chartFile = Fixtures.packageRoot + "/examples/repo/hello-web-1.0.0.tgz"

/// The tags a chart is pushed under: versions as Helm writes them (`+` as `_`) and enough more
/// to need several pages of 5 where a registry paginates.
private let chartTags = ["1.0.0", "1.1.0-rc.1", "1.2.0_build.1"] + (0..<9).map { "0.0.\($0)" }

/// How the test registry lets clients in.
enum ChartRegistryAccess: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case anonymous, basic, token

    var testDescription: String { rawValue }

    var options: RegistryServer.Options {
        switch self {
        case .anonymous: return .init()
        case .basic: return .init(authentication: .basic([alice]))
        case .token: return .init(authentication: .token(users: [alice], anonymousPull: false))
        }
    }

    /// What the client is configured with.
    var credentials: Credentials? {
        self == .anonymous ? nil : .basic(username: alice.username, password: alice.password)
    }
}

/// `RegistryClient.tags`, `manifest` and `blob` against Debian's docker-registry on 127.0.0.1,
/// with a Helm chart pushed as `helm push` does (by the test support's independent push script).
@Suite("RegistryClient tags, manifests and blobs against a real registry")
struct RegistryContentTests {
    @Test("a chart's tags are listed across pages, its manifest fetched by tag and digest, its layer proven on disk",
          arguments: ChartRegistryAccess.allCases)
    func chartRoundTrip(access: ChartRegistryAccess) throws {
        let registry = try RegistryServer(options: access.options)
        defer { registry.stop() }
        let pushed = try registry.pushChart("charts/hello-web", tags: chartTags, chart: chartFile)
        let tokenRequestsAfterPush = try registry.tokenServer?.requests().count ?? 0
        let client = registryClient(for: registry.name, credentials: access.credentials)

        // Tags, asked for in pages of 5 and all at once. Debian's docker-registry 2.8.2 does not
        // paginate tag lists (measured: `?n=5` is answered with all 12 and no Link header), so the
        // Link-following is proven against the fault server (RegistryContentFaultTests).
        let paged = try client.tags(repository: "charts/hello-web", registry: registry.name, pageSize: 5)
        #expect(paged.count == chartTags.count)
        #expect(Set(paged) == Set(chartTags))
        #expect(registry.log().contains("\"GET /v2/charts/hello-web/tags/list?n=5 HTTP/1.1\" 200 "))
        #expect(try client.tags(repository: "charts/hello-web", registry: registry.name) == paged)

        // The manifest by tag: the pushed digest, the Helm media types, the tarball as the layer.
        let tarball = contents(chartFile)
        let byTag = try client.manifest(registry: registry.name, repository: "charts/hello-web", reference: "1.2.0_build.1")
        #expect(byTag.digest == pushed.digest)
        #expect(byTag.bytes.count == pushed.size)
        #expect(byTag.mediaType == OCIManifest.ociManifest)
        #expect(byTag.url == "http://\(registry.name)/v2/charts/hello-web/manifests/1.2.0_build.1")
        #expect(!byTag.manifest.isIndex)
        let config = try #require(byTag.manifest.config)
        #expect(config.mediaType == OCIManifest.helmConfig)
        #expect(config.digest == pushed.config?.digest)
        #expect(byTag.manifest.layers.count == 1)
        let layer = try #require(byTag.manifest.layers.first)
        #expect(layer.mediaType == OCIManifest.helmChartContent)
        #expect(layer.digest == "sha256:" + (try sha256sum(file: chartFile)))
        #expect(layer.size == Int64(tarball.count))
        #expect(byTag.manifest.annotations?["org.opencontainers.image.title"] == "hello-web")

        // By digest: the same bytes; through an ImageReference too.
        let byDigest = try client.manifest(registry: registry.name, repository: "charts/hello-web", reference: pushed.digest)
        #expect(byDigest.bytes == byTag.bytes)
        #expect(byDigest.digest == pushed.digest)
        let byReference = try client.manifest(imageReference("\(registry.name)/charts/hello-web:1.1.0-rc.1"))
        #expect(byReference.digest == pushed.digest)

        // The layer and the config streamed to disk and proven; nothing else left beside them.
        let dir = try TemporaryDirectory()
        let result = try client.blob(layer, repository: "charts/hello-web", registry: registry.name,
                                     to: dir.file("hello-web.tgz"))
        #expect(result.bytes == Int64(tarball.count))
        #expect(result.sha256.prefixed == layer.digest)
        #expect(contents(dir.file("hello-web.tgz")) == tarball)
        _ = try client.blob(repository: "charts/hello-web", registry: registry.name, digest: config.digest,
                            size: config.size, to: dir.file("config.json"))
        let chart = try JSONSerialization.jsonObject(with: Data(contents(dir.file("config.json")))) as? [String: Any]
        #expect(chart?["name"] as? String == "hello-web")
        #expect(chart?["version"] as? String == "1.0.0")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["config.json", "hello-web.tgz"])

        // Token auth: one token for the repository's pull scope served every request.
        if let tokens = registry.tokenServer {
            let requests = try Array(tokens.requests().dropFirst(tokenRequestsAfterPush))
            #expect(requests.map(\.scopes) == [["repository:charts/hello-web:pull"]])
            #expect(requests.map(\.user) == ["alice"])
        }
    }

    @Test("a blob fetched first (no token or challenge known yet) authenticates and is proven",
          arguments: ChartRegistryAccess.allCases)
    func blobFirst(access: ChartRegistryAccess) throws {
        let registry = try RegistryServer(options: access.options)
        defer { registry.stop() }
        let pushed = try registry.pushChart("charts/hello-web", tags: ["1.0.0"], chart: chartFile)
        let layer = try #require(pushed.layers.first)
        let dir = try TemporaryDirectory()
        let client = registryClient(for: registry.name, credentials: access.credentials)
        let result = try client.blob(repository: "charts/hello-web", registry: registry.name, digest: layer.digest,
                                     size: Int64(layer.size), to: dir.file("chart.tgz"))
        #expect(result.bytes == Int64(layer.size))
        #expect(contents(dir.file("chart.tgz")) == contents(chartFile))
        // Once learnt, the credentials go up front: a second blob takes one request.
        let before = registry.log().split(separator: "\n").filter { $0.hasPrefix("127.0.0.1 ") && $0.contains("/v2/charts/hello-web/blobs/") }.count
        _ = try client.blob(repository: "charts/hello-web", registry: registry.name, digest: layer.digest,
                            size: Int64(layer.size), to: dir.file("again.tgz"))
        let after = registry.log().split(separator: "\n").filter { $0.hasPrefix("127.0.0.1 ") && $0.contains("/v2/charts/hello-web/blobs/") }.count
        #expect(after - before == 1)
    }

    @Test("a manifest without a mediaType field takes its type from the Content-Type it is served with")
    func manifestWithoutMediaTypeField() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let pushed = try registry.pushChart("charts/old-helm", tags: ["0.1.0"], chart: chartFile, mediaTypeField: false)
        let fetched = try registryClient(for: registry.name).manifest(imageReference("\(registry.name)/charts/old-helm:0.1.0"))
        #expect(fetched.digest == pushed.digest)
        #expect(!String(decoding: fetched.bytes, as: UTF8.self).contains("\"mediaType\": \"application/vnd.oci.image.manifest"))
        #expect(fetched.mediaType == OCIManifest.ociManifest)
        #expect(fetched.manifest.mediaType == OCIManifest.ociManifest)
    }

    @Test("an image index is fetched as an index naming its platform manifests")
    func index() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        let pushed = try registry.pushIndex("multi/arch", tag: "v1", format: .oci)
        let fetched = try registryClient(for: registry.name).manifest(imageReference("\(registry.name)/multi/arch:v1"))
        #expect(fetched.digest == pushed.digest)
        #expect(fetched.manifest.isIndex)
        #expect(fetched.manifest.config == nil)
        #expect(fetched.manifest.manifests.map(\.digest) == pushed.manifests)
        #expect(fetched.manifest.manifests.map { $0.platform?.architecture } == ["amd64", "arm64"])
    }

    @Test("unknown repository, tag and blob are clear errors naming them (input)")
    func unknowns() throws {
        let registry = try RegistryServer()
        defer { registry.stop() }
        try registry.pushChart("charts/hello-web", tags: ["1.0.0"], chart: chartFile)
        let client = registryClient(for: registry.name)

        let noRepository = try expectRegistryError { try client.tags(repository: "charts/nothing", registry: registry.name) }
        #expect(noRepository == .repositoryUnknown(image: "\(registry.name)/charts/nothing", registry: registry.name))
        #expect(noRepository?.category == .input)
        #expect(noRepository?.description.contains("\(registry.name)/charts/nothing") == true)

        let noTag = try expectRegistryError {
            try client.manifest(registry: registry.name, repository: "charts/hello-web", reference: "9.9.9")
        }
        #expect(noTag == .manifestUnknown(image: "\(registry.name)/charts/hello-web:9.9.9"))
        let noManifestRepository = try expectRegistryError {
            try client.manifest(registry: registry.name, repository: "charts/nothing", reference: "1.0.0")
        }
        #expect(noManifestRepository == .repositoryUnknown(image: "\(registry.name)/charts/nothing:1.0.0", registry: registry.name))

        let missing = "sha256:" + String(repeating: "0", count: 64)
        let dir = try TemporaryDirectory()
        let noBlob = try expectRegistryError {
            try client.blob(repository: "charts/hello-web", registry: registry.name, digest: missing, size: 10,
                            to: dir.file("blob"))
        }
        #expect(noBlob == .blobUnknown(blob: "\(registry.name)/charts/hello-web@\(missing)", registry: registry.name))
        #expect(noBlob?.category == .input)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("token auth refusing anonymous access: tags fail with authenticationFailed, not a crash or a loop")
    func tagsNeedCredentials() throws {
        let registry = try RegistryServer(options: ChartRegistryAccess.token.options)
        defer { registry.stop() }
        try registry.pushChart("charts/hello-web", tags: ["1.0.0"], chart: chartFile)
        let error = try expectRegistryError {
            try registryClient(for: registry.name).tags(repository: "charts/hello-web", registry: registry.name)
        }
        guard case let .authenticationFailed(name, reason)? = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(name == registry.name)
        #expect(reason.contains("anonymous"))
    }
}
