import ChartSyncCore
import ChartSyncTransport
import Testing

private let d1 = "sha256:" + String(repeating: "1", count: 64)
private let d2 = "sha256:" + String(repeating: "2", count: 64)

/// A descriptor's JSON with the given fields (`nil` leaves one out).
private func descriptorJSON(mediaType: String? = "\"application/vnd.cncf.helm.chart.content.v1.tar+gzip\"",
                            digest: String? = "\"\(d2)\"", size: String? = "1234", extra: String = "") -> String {
    var fields: [String] = []
    if let mediaType { fields.append("\"mediaType\":\(mediaType)") }
    if let digest { fields.append("\"digest\":\(digest)") }
    if let size { fields.append("\"size\":\(size)") }
    if !extra.isEmpty { fields.append(extra) }
    return "{" + fields.joined(separator: ",") + "}"
}

/// A chart manifest with one layer described by `layer`.
private func manifestJSON(layer: String = descriptorJSON(),
                          mediaType: String? = "\"application/vnd.oci.image.manifest.v1+json\"",
                          schemaVersion: String = "2") -> String {
    var fields = ["\"schemaVersion\":\(schemaVersion)"]
    if let mediaType { fields.append("\"mediaType\":\(mediaType)") }
    fields.append(#""config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"\#(d1)","size":117}"#)
    fields.append("\"layers\":[\(layer)]")
    fields.append(#""annotations":{"org.opencontainers.image.title":"hello-web"}"#)
    return "{" + fields.joined(separator: ",") + "}"
}

/// The UTF-8 bytes of `text`.
private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("OCI manifests decode strictly")
struct OCIManifestTests {
    @Test("a Helm chart manifest decodes: config, one layer, annotations")
    func chartManifest() throws {
        let manifest = try OCIManifest.parse(utf8(manifestJSON()))
        #expect(manifest.mediaType == OCIManifest.ociManifest)
        #expect(!manifest.isIndex)
        #expect(manifest.config == OCIDescriptor(mediaType: OCIManifest.helmConfig, digest: d1, size: 117))
        #expect(manifest.layers == [OCIDescriptor(mediaType: OCIManifest.helmChartContent, digest: d2, size: 1234)])
        #expect(manifest.layers.first?.sha256 == Digest(d2))
        #expect(manifest.manifests.isEmpty)
        #expect(manifest.annotations == ["org.opencontainers.image.title": "hello-web"])
    }

    @Test("indexes decode with platforms; Docker manifest lists too", arguments: [
        OCIManifest.ociIndex, OCIManifest.dockerManifestList,
    ])
    func indexes(mediaType: String) throws {
        let text = """
        {"schemaVersion":2,"mediaType":"\(mediaType)","manifests":[
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d1)","size":500,
           "platform":{"architecture":"arm64","os":"linux","variant":"v8","os.version":"6.1"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(d2)","size":501,
           "annotations":{"a":"b"}}]}
        """
        let index = try OCIManifest.parse(Array(text.utf8))
        #expect(index.isIndex)
        #expect(index.mediaType == mediaType)
        #expect(index.config == nil)
        #expect(index.layers.isEmpty)
        #expect(index.manifests.map(\.digest) == [d1, d2])
        #expect(index.manifests[0].platform == OCIPlatform(architecture: "arm64", os: "linux", variant: "v8", osVersion: "6.1"))
        #expect(index.manifests[1].platform == nil)
        #expect(index.manifests[1].annotations == ["a": "b"])
    }

    @Test("the media type: the document's, else the one served, else inferred from the fields", arguments: [
        (String?.some("\"\(OCIManifest.dockerManifest)\""), String?.none, OCIManifest.dockerManifest),
        (nil, OCIManifest.dockerManifest, OCIManifest.dockerManifest),
        (nil, "application/json", OCIManifest.ociManifest),
        (nil, nil, OCIManifest.ociManifest),
        ("\"\(OCIManifest.ociManifest)\"", "application/octet-stream", OCIManifest.ociManifest),
    ])
    func mediaTypes(field: String?, served: String?, expected: String) throws {
        #expect(try OCIManifest.parse(utf8(manifestJSON(mediaType: field)), mediaType: served).mediaType == expected)
    }

    @Test("digests in the OCI grammar are accepted", arguments: [
        d1, "sha512:" + String(repeating: "a", count: 128), "blake3:" + String(repeating: "A", count: 64),
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    ])
    func goodDigests(digest: String) throws {
        let manifest = try OCIManifest.parse(utf8(manifestJSON(layer: descriptorJSON(digest: "\"\(digest)\""))))
        #expect(manifest.layers.first?.digest == digest)
        #expect((manifest.layers.first?.sha256 != nil) == digest.hasPrefix("sha256:"))
    }

    @Test("what is malformed is an error naming the field", arguments: [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (manifestJSON(schemaVersion: "1"), "schemaVersion is 1, not 2"),
        (#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#, "schemaVersion is missing"),
        (manifestJSON(mediaType: "\"application/vnd.oci.artifact.manifest.v1+json\""), "is not an OCI or Docker v2"),
        (manifestJSON(mediaType: "42"), "mediaType is not a string"),
        (manifestJSON(layer: descriptorJSON(size: "-1")), "layers[0].size is negative (-1)"),
        (manifestJSON(layer: descriptorJSON(size: "1.5")), "layers[0].size 1.5 is not an integer"),
        (manifestJSON(layer: descriptorJSON(size: "\"12\"")), "layers[0].size is not a number"),
        (manifestJSON(layer: descriptorJSON(size: "1e300")), "is not an integer byte count"),
        (manifestJSON(layer: descriptorJSON(size: nil)), "layers[0].size is missing"),
        (manifestJSON(layer: descriptorJSON(digest: nil)), "layers[0].digest is missing"),
        (manifestJSON(layer: descriptorJSON(digest: "\"sha256:abc\"")), "layers[0].digest \"sha256:abc\" is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"sha256:\(String(repeating: "A", count: 64))\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"sha512:\(String(repeating: "a", count: 64))\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"\(String(repeating: "a", count: 64))\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"SHA256:\(String(repeating: "a", count: 64))\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"sha256:\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(digest: "\"sha__256:abc\"")), "is not a digest"),
        (manifestJSON(layer: descriptorJSON(mediaType: nil)), "layers[0].mediaType is missing"),
        (manifestJSON(layer: descriptorJSON(mediaType: "\"tar\"")), "layers[0].mediaType \"tar\" is not a media type"),
        (manifestJSON(layer: descriptorJSON(mediaType: "\"a/b; charset=x\"")), "is not a media type"),
        (manifestJSON(layer: descriptorJSON(extra: #""annotations":{"a":1}"#)), "layers[0].annotations.a is not a string"),
        (manifestJSON(layer: descriptorJSON(extra: #""platform":{"os":"linux"}"#)), "layers[0].platform needs architecture and os"),
        (manifestJSON(layer: "7"), "layers[0] is not an object"),
        (#"{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"\#(d1)","size":1}}"#, "layers is missing"),
        (#"{"schemaVersion":2,"layers":[]}"#, "config is missing"),
        (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#, "manifests is missing"),
        (#"{"schemaVersion":2,"manifests":{}}"#, "manifests is not an array"),
    ])
    func malformed(text: String, reason: String) {
        do {
            let manifest = try OCIManifest.parse(utf8(text))
            Issue.record("expected an error, got \(manifest)")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.description.hasPrefix("invalid manifest: "))
        }
    }

    @Test("a document whose mediaType disagrees with the manifest type it was served as is refused")
    func servedTypeDisagrees() {
        #expect(throws: OCIManifestError.self) {
            try OCIManifest.parse(utf8(manifestJSON()), mediaType: OCIManifest.dockerManifest)
        }
    }
}
