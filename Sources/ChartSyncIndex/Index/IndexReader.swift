import ChartSyncBasics
import ChartSyncCore
import Glibc

/// Reads Helm repository indexes (index.yaml, or its JSON form) from libyaml events, building
/// only the entries of the charts asked for. It follows Helm's loader: unknown fields and
/// duplicate keys are errors in YAML (Helm decodes strictly) and ignored in JSON; null items and
/// entries that fail Helm's chart-metadata validation are dropped with a warning; each chart's
/// versions come out newest first.
public struct IndexReader: Sendable {
    /// Limits against hostile YAML.
    public var limits: YAMLLimits

    /// Creates a reader.
    public init(limits: YAMLLimits = YAMLLimits()) {
        self.limits = limits
    }

    /// Reads the index at `path`, streaming it (memory does not grow with the file's size).
    /// `source` names it in messages (defaults to the path); `charts` limits which charts'
    /// entries are built (all when nil).
    public func read(contentsOf path: String, source: String? = nil, charts: Set<String>? = nil,
                     warn: (IndexWarning) -> Void = { _ in }) throws(IndexError) -> IndexFile {
        let source = source ?? path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(source: source, message: SystemError.text()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(source: source, message: SystemError.text()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(source: source, message: "not a regular file") }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw .unreadable(source: source, message: SystemError.text()) }
        guard n > 0 else { throw .empty(source: source) }
        let stream = YAMLEventStream(fileDescriptor: fd, source: source)
        return try parse(stream, strict: !IndexReader.looksLikeJSON(head[0..<n]), charts: charts, warn: warn)
    }

    /// Reads an index from bytes.
    public func read(bytes: UnsafeRawBufferPointer, source: String, charts: Set<String>? = nil,
                     warn: (IndexWarning) -> Void = { _ in }) throws(IndexError) -> IndexFile {
        guard !bytes.isEmpty else { throw .empty(source: source) }
        let stream = YAMLEventStream(bytes: bytes, source: source)
        return try parse(stream, strict: !IndexReader.looksLikeJSON(bytes), charts: charts, warn: warn)
    }

    private func parse(_ stream: YAMLEventStream, strict: Bool, charts: Set<String>?,
                       warn: (IndexWarning) -> Void) throws(IndexError) -> IndexFile {
        let limits = limits
        let result = withoutActuallyEscaping(warn) { warn in
            Result { () throws(YAMLError) -> IndexFile? in
                try IndexParser(stream: stream, strict: strict, charts: charts, limits: limits, warn: warn).parse()
            }
        }
        let index: IndexFile?
        do {
            index = try result.get()
        } catch {
            throw .malformed(error)
        }
        guard let index else { throw .noAPIVersion(source: stream.source) }
        return index
    }

    /// Helm decodes an index as JSON (leniently) when it is JSON; chartsync takes a first
    /// non-blank `{` as the sign.
    private static func looksLikeJSON<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        bytes.first { ![0x20, 0x09, 0x0a, 0x0d].contains($0) } == UInt8(ascii: "{")
    }

}

/// One pass over one index's events.
private final class IndexParser {
    let stream: YAMLEventStream
    let builder: YAMLNodeBuilder
    let source: String
    let strict: Bool
    let charts: Set<String>?
    /// Every chart name under entries, in file order.
    var names: [String] = []
    let warn: (IndexWarning) -> Void

    init(stream: YAMLEventStream, strict: Bool, charts: Set<String>?,
         limits: YAMLLimits, warn: @escaping (IndexWarning) -> Void) {
        self.stream = stream
        builder = YAMLNodeBuilder(stream: stream, limits: limits)
        source = stream.source
        self.strict = strict
        self.charts = charts
        self.warn = warn
    }

    /// The index, or nil when it has no apiVersion.
    func parse() throws(YAMLError) -> IndexFile? {
        var kind = try stream.next()
        while kind == .streamStart || kind == .documentStart { kind = try stream.next() }
        if kind == .streamEnd || (kind == .scalar && stream.scalarIsNull) { return nil }
        guard kind == .mappingStart else { throw stream.error("an index must be a mapping of apiVersion, entries, ...") }

        var apiVersion = ""
        var generated: String?
        var annotations: [String: String] = [:]
        var entries: [String: [ChartVersion]] = [:]
        var seen = Set<String>()
        while true {
            let keyKind = try stream.next()
            if keyKind == .mappingEnd { break }
            guard keyKind == .scalar else { throw stream.error("mapping keys must be scalars") }
            let key = stream.scalar
            guard seen.insert(key).inserted else { throw stream.error("duplicate key \"\(key)\"") }
            let valueKind = try stream.next()
            switch key {
            case "apiVersion":
                apiVersion = try topLevelScalar(valueKind, key) ?? ""
            case "generated":
                generated = try topLevelScalar(valueKind, key)
            case "entries":
                entries = try parseEntries(valueKind)
            case "annotations":
                annotations = try IndexFields(builder.build(valueKind, depth: 1), path: key, source: source).stringMap()
            case "publicKeys", "serverInfo":
                try builder.skip(valueKind, depth: 1)
            default:
                guard !strict else { throw stream.error("unknown field \"\(key)\" in index") }
                try builder.skip(valueKind, depth: 1)
            }
        }
        guard !apiVersion.isEmpty else { return nil }
        var index = IndexFile(apiVersion: apiVersion, generated: generated, entries: entries, annotations: annotations)
        index.names = names.sorted()
        return index
    }

    private func topLevelScalar(_ kind: YAMLEventKind, _ key: String) throws(YAMLError) -> String? {
        let node = try builder.build(kind, depth: 1)
        return try IndexFields(node, path: key, source: source).string()
    }

    private func parseEntries(_ kind: YAMLEventKind) throws(YAMLError) -> [String: [ChartVersion]] {
        if kind == .scalar && stream.scalarIsNull { return [:] }
        guard kind == .mappingStart else { throw stream.error("entries must be a mapping of chart names to lists") }
        var entries: [String: [ChartVersion]] = [:]
        var seen = Set<String>()
        while true {
            let keyKind = try stream.next()
            if keyKind == .mappingEnd { return entries }
            guard keyKind == .scalar else { throw stream.error("chart names under entries must be scalars") }
            let chart = stream.scalar
            guard seen.insert(chart).inserted else { throw stream.error("duplicate key \"\(chart)\" under entries") }
            names.append(chart)
            let valueKind = try stream.next()
            guard charts?.contains(chart) ?? true else {
                try builder.skip(valueKind, depth: 2)
                continue
            }
            let list = try IndexFields(builder.build(valueKind, depth: 2), path: "entries.\(chart)", source: source)
            var versions: [ChartVersion] = []
            for item in try list.list() {
                if let version = try chartVersion(item.node, chart: chart) { versions.append(version) }
            }
            warnAboutDuplicates(versions, chart: chart)
            if !versions.isEmpty { entries[chart] = versions }
        }
    }

    /// Decodes one entry (errors for wrong shapes, as Helm's strict decoding) and validates it
    /// (nil with a warning for entries Helm drops).
    private func chartVersion(_ node: YAMLNode, chart: String) throws(YAMLError) -> ChartVersion? {
        if node.isNull {
            warn(IndexWarning(source: source, line: node.line, message: "chart \"\(chart)\": skipping a null entry"))
            return nil
        }
        let entry = try IndexEntry(IndexFields(node, path: "entries.\(chart)[]", source: source), strict: strict)
        if let problem = entry.validationProblem() {
            warn(IndexWarning(source: source, line: node.line,
                              message: "chart \"\(chart)\": skipping invalid entry: \(problem)"))
            return nil
        }
        guard let semver = try? SemanticVersion(parsing: entry.version) else { return nil }
        return ChartVersion(name: entry.name, version: entry.version, semver: semver,
                            appVersion: entry.appVersion, apiVersion: entry.apiVersion.isEmpty ? "v1" : entry.apiVersion,
                            description: entry.description, digestText: entry.digest, urls: entry.urls,
                            created: entry.created, deprecated: entry.deprecated, type: entry.type,
                            kubeVersion: entry.kubeVersion, line: node.line)
    }

    private func warnAboutDuplicates(_ versions: [ChartVersion], chart: String) {
        var lines: [String: [Int]] = [:]
        for v in versions { lines[v.version, default: []].append(v.line) }
        for v in versions {
            guard let at = lines[v.version], at.count > 1, at[0] == v.line else { continue }
            let list = at.map(String.init).joined(separator: ", ")
            warn(IndexWarning(source: source, line: v.line,
                              message: "chart \"\(chart)\" lists version \(v.version) \(at.count) times (lines \(list)); the first is used"))
        }
    }
}
