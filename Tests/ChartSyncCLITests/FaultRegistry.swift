import ChartSyncTestSupport
import struct Crypto.SHA256
import Foundation

/// The SHA-256 of `bytes` as `sha256:<hex>`.
func ociDigest(_ bytes: [UInt8]) -> String {
    "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

/// A Helm chart as `helm push` stores it, built in Swift from a chart .tgz: the config blob
/// (Chart.yaml's name and version as JSON), the layer (the .tgz bytes) and the OCI manifest
/// naming both, each with its digest.
struct OCIChart {
    static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    static let helmConfigType = "application/vnd.cncf.helm.config.v1+json"
    static let chartLayerType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

    /// The tag it is published under (`+` written as `_`).
    let tag: String
    let config: [UInt8]
    let layer: [UInt8]
    let manifest: [UInt8]
    var configDigest: String { ociDigest(config) }
    var layerDigest: String { ociDigest(layer) }
    var manifestDigest: String { ociDigest(manifest) }

    /// `name`-`version`.tgz of the embedded example repository, as a chart; `configType` other
    /// than Helm's makes it a container image where a chart is expected.
    init(example name: String, version: String, configType: String = OCIChart.helmConfigType) throws {
        let path = Fixtures.packageRoot + "/examples/repo/\(name)-\(version).tgz"
        try self.init(tgz: Array(try Data(contentsOf: URL(fileURLWithPath: path))), name: name, version: version,
                      configType: configType)
    }

    init(tgz: [UInt8], name: String, version: String, configType: String = OCIChart.helmConfigType) throws {
        tag = version.replacingOccurrences(of: "+", with: "_")
        layer = tgz
        config = Array(#"{"apiVersion":"v2","name":"\#(name)","version":"\#(version)"}"#.utf8)
        let layerType = configType == OCIChart.helmConfigType ? OCIChart.chartLayerType
            : "application/vnd.oci.image.layer.v1.tar+gzip"
        manifest = Array("""
            {"schemaVersion":2,"mediaType":"\(OCIChart.manifestType)",\
            "config":{"mediaType":"\(configType)","digest":"\(ociDigest(config))","size":\(config.count)},\
            "layers":[{"mediaType":"\(layerType)","digest":"\(ociDigest(tgz))","size":\(tgz.count)}]}
            """.utf8)
    }
}

/// A `FaultServer` standing in for an OCI registry with one repository: `/v2/`, the tag list,
/// manifests by tag and by digest (with `Content-Type` and `Docker-Content-Digest`) and blobs,
/// served from `OCIChart`s; every path can then be re-planned with a fault.
final class FaultRegistry {
    let server: FaultServer
    /// `PATH/NAME` on the registry, e.g. `charts/hello-web`.
    let repository: String
    private(set) var tags: [String] = []

    init(repository: String = "charts/hello-web") throws {
        server = try FaultServer()
        self.repository = repository
        try server.plan("/v2/", .ok(Array("{}".utf8), headers: ["Content-Type": "application/json"]))
        try planTags()
    }

    func stop() { server.stop() }

    /// `127.0.0.1:<port>`, the registry's name in references.
    var name: String { "127.0.0.1:\(server.port)" }

    var tagsPath: String { "/v2/\(repository)/tags/list" }
    func manifestPath(_ reference: String) -> String { "/v2/\(repository)/manifests/\(reference)" }
    func blobPath(_ digest: String) -> String { "/v2/\(repository)/blobs/\(digest)" }

    /// The headers a registry sends with `manifest`; `digest` overrides Docker-Content-Digest.
    static func manifestHeaders(_ manifest: [UInt8], digest: String? = nil) -> [String: String] {
        ["Content-Type": OCIChart.manifestType, "Docker-Content-Digest": digest ?? ociDigest(manifest)]
    }

    /// Serves `chart` under its tag and digest, its blobs, and adds its tag to the tag list.
    func publish(_ chart: OCIChart) throws {
        let manifest = FaultResponse.ok(chart.manifest, headers: Self.manifestHeaders(chart.manifest))
        try server.plan(manifestPath(chart.tag), manifest)
        try server.plan(manifestPath(chart.manifestDigest), manifest)
        try server.plan(blobPath(chart.configDigest), .ok(chart.config))
        try server.plan(blobPath(chart.layerDigest), .ok(chart.layer, headers: ["Content-Type": "application/octet-stream"]))
        if !tags.contains(chart.tag) { tags.append(chart.tag) }
        try planTags()
    }

    /// Plans the tag list (the published tags), after `before` (e.g. a 503) when given.
    func planTags(before: [FaultResponse] = []) throws {
        let list = #"{"name":"\#(repository)","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        try server.plan(tagsPath, before + [.ok(Array(list.utf8), headers: ["Content-Type": "application/json"])])
    }

    /// A distribution API error body.
    static func errorBody(_ code: String, _ message: String) -> [UInt8] {
        Array(#"{"errors":[{"code":"\#(code)","message":"\#(message)"}]}"#.utf8)
    }

    /// The requests for `path` (without query) so far.
    func requests(_ path: String) throws -> [RecordedRequest] { try server.requests(path: path) }
}
