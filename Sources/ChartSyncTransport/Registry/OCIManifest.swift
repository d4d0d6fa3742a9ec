import ChartSyncCore

/// Why a manifest document could not be decoded; `reason` names the field and what is wrong with
/// it (values shown at most 100 characters long).
public struct OCIManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The field and what is wrong with it, e.g. `layers[0].size is negative (-1)`.
    public let reason: String

    /// Creates an error.
    public init(_ reason: String) {
        self.reason = reason
    }

    /// "invalid manifest: " and the reason.
    public var description: String { "invalid manifest: " + reason }
}

/// The platform an index entry is for (`platform` of an image index descriptor).
public struct OCIPlatform: Sendable, Hashable {
    /// The CPU architecture, e.g. `amd64`, `arm64`.
    public var architecture: String
    /// The operating system, e.g. `linux`.
    public var os: String
    /// The CPU variant, e.g. `v8`, if given.
    public var variant: String?
    /// `os.version`, if given.
    public var osVersion: String?

    /// Creates a platform.
    public init(architecture: String, os: String, variant: String? = nil, osVersion: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.osVersion = osVersion
    }
}

/// A content descriptor (image spec 1.1): what a manifest says about a blob or another manifest.
public struct OCIDescriptor: Sendable, Hashable {
    /// The media type of the content, e.g. `application/vnd.cncf.helm.chart.content.v1.tar+gzip`.
    public var mediaType: String
    /// `algorithm:encoded`, e.g. `sha256:<64 lowercase hex>` (sha256 and sha512 are checked for
    /// their exact length; other algorithms only for the grammar).
    public var digest: String
    /// The content's size in bytes (never negative).
    public var size: Int64
    /// The descriptor's annotations, if any.
    public var annotations: [String: String]?
    /// The platform of an index entry, if given.
    public var platform: OCIPlatform?

    /// Creates a descriptor (taken as it is; `OCIManifest.parse` checks what it reads).
    public init(mediaType: String, digest: String, size: Int64, annotations: [String: String]? = nil,
                platform: OCIPlatform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    /// The SHA-256 the digest names, nil when it uses another algorithm.
    public var sha256: Digest? {
        digest.hasPrefix("sha256:") ? Digest(digest) : nil
    }
}

/// An image manifest or image index, OCI or Docker v2 (schema 2), decoded strictly: the fields
/// chartsync uses must be present and well-formed (`schemaVersion` 2, descriptors with a media
/// type, a digest in the OCI grammar and a non-negative integer size); other fields are ignored.
public struct OCIManifest: Sendable, Hashable {
    /// `application/vnd.oci.image.manifest.v1+json`.
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    /// `application/vnd.oci.image.index.v1+json`.
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    /// `application/vnd.docker.distribution.manifest.v2+json`.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// `application/vnd.docker.distribution.manifest.list.v2+json`.
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// The config media type of a Helm chart: `application/vnd.cncf.helm.config.v1+json`.
    public static let helmConfig = "application/vnd.cncf.helm.config.v1+json"
    /// The layer media type of a Helm chart's .tgz: `application/vnd.cncf.helm.chart.content.v1.tar+gzip`.
    public static let helmChartContent = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    /// The layer media type of a Helm chart's provenance file.
    public static let helmProvenance = "application/vnd.cncf.helm.chart.provenance.v1.prov"

    /// The media types of image manifests (a config and layers).
    public static let manifestTypes: Set<String> = [ociManifest, dockerManifest]
    /// The media types of image indexes (a list of manifests).
    public static let indexTypes: Set<String> = [ociIndex, dockerManifestList]

    /// The media type: the document's `mediaType`, else the one it was served as, else inferred
    /// (an OCI index when it has `manifests`, an OCI manifest otherwise).
    public var mediaType: String
    /// The config blob of an image manifest; nil for an index.
    public var config: OCIDescriptor?
    /// The layers of an image manifest; empty for an index.
    public var layers: [OCIDescriptor]
    /// The manifests an index names; empty for an image manifest.
    public var manifests: [OCIDescriptor]
    /// `artifactType` (image spec 1.1), if given.
    public var artifactType: String?
    /// The document's annotations, if any.
    public var annotations: [String: String]?

    /// Creates a manifest (taken as it is).
    public init(mediaType: String, config: OCIDescriptor?, layers: [OCIDescriptor] = [],
                manifests: [OCIDescriptor] = [], artifactType: String? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.manifests = manifests
        self.artifactType = artifactType
        self.annotations = annotations
    }

    /// Whether this is an image index or manifest list.
    public var isIndex: Bool { OCIManifest.indexTypes.contains(mediaType) }

    /// Decodes a manifest's bytes; `mediaType` is the type it was served as (a `Content-Type`,
    /// used when the document has no `mediaType`; when both are manifest types they must agree).
    public static func parse(_ bytes: [UInt8], mediaType served: String? = nil) throws(OCIManifestError) -> OCIManifest {
        guard let json = JSONValue.parse(bytes) else { throw OCIManifestError("the document is not JSON") }
        guard case .object = json else { throw OCIManifestError("the document is not a JSON object") }
        guard let version = json["schemaVersion"] else { throw OCIManifestError("schemaVersion is missing") }
        guard version.number == 2 else { throw OCIManifestError("schemaVersion is \(shown(version)), not 2") }
        let own = try optionalString(json, "mediaType", at: "")
        let known = manifestTypes.union(indexTypes)
        let mediaType: String
        if let own {
            mediaType = own
        } else if let served, known.contains(served) {
            mediaType = served
        } else {
            mediaType = json["manifests"] != nil ? ociIndex : ociManifest
        }
        guard known.contains(mediaType) else {
            throw OCIManifestError("mediaType \(quoted(mediaType)) is not an OCI or Docker v2 image manifest or index")
        }
        if let served, known.contains(served), mediaType != served {
            throw OCIManifestError("mediaType \(quoted(mediaType)) differs from the type it was served as, \(quoted(served))")
        }
        let artifactType = try optionalString(json, "artifactType", at: "")
        let annotations = try stringMap(json["annotations"], at: "annotations")
        if indexTypes.contains(mediaType) {
            guard let list = json["manifests"] else { throw OCIManifestError("manifests is missing") }
            let manifests = try descriptors(list, at: "manifests")
            return OCIManifest(mediaType: mediaType, config: nil, manifests: manifests, artifactType: artifactType,
                               annotations: annotations)
        }
        guard let configValue = json["config"] else { throw OCIManifestError("config is missing") }
        let config = try descriptor(configValue, at: "config")
        guard let layerList = json["layers"] else { throw OCIManifestError("layers is missing") }
        let layers = try descriptors(layerList, at: "layers")
        return OCIManifest(mediaType: mediaType, config: config, layers: layers, artifactType: artifactType,
                           annotations: annotations)
    }

    // MARK: - Strict field reading

    private static func descriptors(_ value: JSONValue, at path: String) throws(OCIManifestError) -> [OCIDescriptor] {
        guard let elements = value.array else { throw OCIManifestError("\(path) is not an array") }
        var result: [OCIDescriptor] = []
        for (index, element) in elements.enumerated() {
            result.append(try descriptor(element, at: "\(path)[\(index)]"))
        }
        return result
    }

    private static func descriptor(_ value: JSONValue, at path: String) throws(OCIManifestError) -> OCIDescriptor {
        guard case .object = value else { throw OCIManifestError("\(path) is not an object") }
        guard let mediaType = try optionalString(value, "mediaType", at: path) else {
            throw OCIManifestError("\(path).mediaType is missing")
        }
        guard isMediaType(mediaType) else {
            throw OCIManifestError("\(path).mediaType \(quoted(mediaType)) is not a media type")
        }
        guard let digest = try optionalString(value, "digest", at: path) else {
            throw OCIManifestError("\(path).digest is missing")
        }
        guard isDigest(digest) else { throw OCIManifestError("\(path).digest \(quoted(digest)) is not a digest") }
        guard let sizeValue = value["size"] else { throw OCIManifestError("\(path).size is missing") }
        guard let number = sizeValue.number else { throw OCIManifestError("\(path).size is not a number") }
        guard number >= 0 else { throw OCIManifestError("\(path).size is negative (\(shown(sizeValue)))") }
        guard number == number.rounded(.towardZero), number <= 9_007_199_254_740_991 else {
            throw OCIManifestError("\(path).size \(shown(sizeValue)) is not an integer byte count")
        }
        var platform: OCIPlatform?
        if let platformValue = value["platform"] {
            let at = path + ".platform"
            guard case .object = platformValue else { throw OCIManifestError("\(at) is not an object") }
            guard let architecture = try optionalString(platformValue, "architecture", at: at),
                  let os = try optionalString(platformValue, "os", at: at) else {
                throw OCIManifestError("\(at) needs architecture and os")
            }
            platform = OCIPlatform(architecture: architecture, os: os,
                                   variant: try optionalString(platformValue, "variant", at: at),
                                   osVersion: try optionalString(platformValue, "os.version", at: at))
        }
        return OCIDescriptor(mediaType: mediaType, digest: digest, size: Int64(number),
                             annotations: try stringMap(value["annotations"], at: path + ".annotations"),
                             platform: platform)
    }

    /// The string at `key`, nil when absent (or null); an error when it is another kind of value.
    private static func optionalString(_ object: JSONValue, _ key: String, at path: String)
        throws(OCIManifestError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard let text = value.string else {
            throw OCIManifestError("\(path.isEmpty ? "" : path + ".")\(key) is not a string")
        }
        return text
    }

    private static func stringMap(_ value: JSONValue?, at path: String) throws(OCIManifestError) -> [String: String]? {
        guard let value, value != .null else { return nil }
        guard case let .object(members) = value else { throw OCIManifestError("\(path) is not an object") }
        var result: [String: String] = [:]
        for (key, member) in members {
            guard let text = member.string else { throw OCIManifestError("\(path).\(key) is not a string") }
            result[key] = text
        }
        return result
    }

    /// `type/subtype` with RFC 6838 restricted-name characters (parameters are not allowed).
    static func isMediaType(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, text.utf8.count <= 255 else { return false }
        let extras = Set("!#$&-^_.+".utf8)
        return parts.allSatisfy { part in
            guard let first = part.utf8.first, isAlphanumeric(first) else { return false }
            return part.utf8.allSatisfy { isAlphanumeric($0) || extras.contains($0) }
        }
    }

    /// The OCI digest grammar: `algorithm:encoded`, algorithm components `[a-z0-9]+` joined by
    /// `+ . _ -`, encoded `[a-zA-Z0-9=_-]+`; sha256 needs 64 and sha512 128 lowercase hex digits.
    static func isDigest(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let algorithm = Array(text[..<colon].utf8), encoded = Array(text[text.index(after: colon)...].utf8)
        let separators = Set("+._-".utf8)
        guard let first = algorithm.first, let last = algorithm.last, isLowerAlphanumeric(first),
              isLowerAlphanumeric(last), !encoded.isEmpty else { return false }
        for (index, byte) in algorithm.enumerated() where !isLowerAlphanumeric(byte) {
            guard separators.contains(byte), !separators.contains(algorithm[index - 1]) else { return false }
        }
        let isLowerHex = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) }
        switch String(decoding: algorithm, as: UTF8.self) {
        case "sha256": return encoded.count == 64 && encoded.allSatisfy(isLowerHex)
        case "sha512": return encoded.count == 128 && encoded.allSatisfy(isLowerHex)
        default: return encoded.allSatisfy { isAlphanumeric($0) || Array("=_-".utf8).contains($0) }
        }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7a).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (0x41...0x5a).contains(byte)
    }

    private static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(100)) + "\""
    }

    private static func shown(_ value: JSONValue) -> String {
        switch value {
        case let .number(number):
            return number == number.rounded(.towardZero) && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case let .string(text): return quoted(text)
        case .object: return "an object"
        case .array: return "an array"
        case let .bool(flag): return String(flag)
        case .null: return "null"
        }
    }
}
