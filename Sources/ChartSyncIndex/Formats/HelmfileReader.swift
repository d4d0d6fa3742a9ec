import ChartSyncBasics
import ChartSyncCore

/// Why a helmfile could not be read; names the file and, when it applies, the line.
public struct HelmfileError: Error, Sendable, CustomStringConvertible {
    /// The helmfile's path.
    public let source: String
    /// 1-based line, or 0 when the problem is the whole file.
    public let line: Int
    /// What is wrong.
    public let message: String

    public var description: String { line > 0 ? "\(source): line \(line): \(message)" : "\(source): \(message)" }
}

/// Reads what is static YAML in a helmfile: `repositories:` (name, url, oci), `releases:` (name,
/// chart, version, values and secrets files), `environments:` (values and secrets files),
/// `bases:` and `helmfiles:`, over every `---` document. Other keys are left alone (helmfile
/// has many); a key chartsync reads must have the shape helmfile gives it. Go templates are
/// never rendered: lines holding `{{` are listed, and a file that does not parse as YAML
/// because of them is an error that says so and names the line.
public enum HelmfileReader {
    /// Reads the helmfile at `path` (at most 16 MiB).
    public static func read(path: String) throws(HelmfileError) -> Helmfile {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, limit: 16 << 20)
        } catch {
            throw HelmfileError(source: path, line: 0, message: error.description)
        }
        return try parse(bytes, source: path)
    }

    /// Parses helmfile text.
    public static func parse(_ bytes: [UInt8], source: String) throws(HelmfileError) -> Helmfile {
        var helmfile = Helmfile()
        helmfile.templateLines = templateLines(bytes)
        let documents: [YAMLNode]
        do {
            documents = try YAMLDocument.loadAll(bytes, source: source)
        } catch {
            guard !helmfile.templateLines.isEmpty else {
                throw HelmfileError(source: source, line: error.line, message: "not valid YAML: \(error.message)")
            }
            let near = helmfile.templateLines.last { $0 <= error.line } ?? helmfile.templateLines[0]
            throw HelmfileError(source: source, line: error.line, message: "does not parse as YAML (\(error.message)); it holds Go "
                + "templates, which chartsync does not render (line \(near)" + (helmfile.templateLines.count > 1
                    ? "; all on lines " + helmfile.templateLines.map(String.init).joined(separator: ", ") : "") + ")")
        }
        do {
            for document in documents { try read(IndexFields(document, path: "helmfile", source: source), into: &helmfile) }
        } catch {
            throw HelmfileError(source: source, line: error.line, message: error.message)
        }
        return helmfile
    }

    /// The 1-based lines holding `{{`.
    static func templateLines(_ bytes: [UInt8]) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                line += 1
            } else if byte == UInt8(ascii: "{") && previous == UInt8(ascii: "{") && lines.last != line {
                lines.append(line)
            }
            previous = byte
        }
        return lines
    }

    private static func read(_ document: IndexFields, into helmfile: inout Helmfile) throws(YAMLError) {
        for (key, value) in try document.pairs() {
            switch key {
            case "repositories":
                for item in try value.list() {
                    var repository = Helmfile.Repository(name: "", url: "", line: item.node.line)
                    for (field, v) in try item.pairs() {
                        switch field {
                        case "name": repository.name = try v.string() ?? ""
                        case "url": repository.url = try v.string() ?? ""
                        case "oci": repository.oci = try v.bool()
                        default: break
                        }
                    }
                    guard !repository.name.isEmpty else { throw item.error("a repository needs a name") }
                    helmfile.repositories.append(repository)
                }
            case "releases":
                for item in try value.list() {
                    var release = Helmfile.Release(name: "", chart: "", line: item.node.line)
                    var files: [Helmfile.File] = []
                    for (field, v) in try item.pairs() {
                        switch field {
                        case "name": release.name = try v.string() ?? ""
                        case "chart": release.chart = try v.string() ?? ""
                        case "version": release.version = try v.string()
                        case "values", "secrets": files += try self.files(v, key: field)
                        default: break
                        }
                    }
                    guard !release.chart.isEmpty else { throw item.error("release \"\(release.name)\" needs a chart") }
                    helmfile.releases.append(release)
                    helmfile.files += files.map { Helmfile.File(path: $0.path, key: "releases.\(release.name).\($0.key)", line: $0.line) }
                }
            case "environments":
                for (name, environment) in try value.pairs() {
                    for (field, v) in try environment.pairs() where field == "values" || field == "secrets" {
                        helmfile.files += try files(v, key: "environments.\(name).\(field)")
                    }
                }
            case "bases":
                helmfile.files += try files(value, key: key)
            case "helmfiles":
                for item in try value.list() {
                    if item.node.pairs != nil {
                        for (field, v) in try item.pairs() where field == "path" {
                            if let path = try v.string() { helmfile.files.append(.init(path: path, key: key, line: v.node.line)) }
                        }
                    } else if let path = try item.string() {
                        helmfile.files.append(.init(path: path, key: key, line: item.node.line))
                    }
                }
            default:
                break
            }
        }
    }

    /// The file paths of a `values:`/`secrets:`/`bases:` list; inline mappings are not files.
    private static func files(_ value: IndexFields, key: String) throws(YAMLError) -> [Helmfile.File] {
        var out: [Helmfile.File] = []
        for item in try value.list() where item.node.scalar != nil && !item.node.isNull {
            out.append(.init(path: try item.string() ?? "", key: key, line: item.node.line))
        }
        return out
    }
}
