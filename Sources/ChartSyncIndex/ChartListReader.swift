import ChartSyncCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a chart list was refused; always names the file and, when it applies, the line.
public struct ChartListError: Error, Sendable, CustomStringConvertible {
    /// The chart list's path.
    public let source: String
    /// 1-based line, or 0 when the problem is the whole file.
    public let line: Int
    /// What is wrong.
    public let message: String

    public var description: String { line > 0 ? "\(source): line \(line): \(message)" : "\(source): \(message)" }
}

/// Reads and validates `chartsync.yaml` before anything is downloaded: unknown keys, duplicate
/// charts or repositories, unknown repositories, unsafe names and invalid constraints are errors.
public enum ChartListReader {
    static let topKeys: Set<String> = ["repositories", "charts"]
    static let repositoryKeys: Set<String> = [
        "name", "url", "caFile", "certFile", "keyFile", "insecureSkipTLSVerify", "passCredentials",
        "usernameEnv", "passwordEnv", "tokenEnv", "credentialsFile",
    ]
    static let chartKeys: Set<String> = ["name", "repository", "version", "devel", "unpack", "allowMissingDigest"]

    /// Reads the chart list at `path`.
    public static func read(path: String) throws(ChartListError) -> ChartList {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ChartListError(source: path, line: 0, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        guard let file = fopen(path, "rb") else {
            throw ChartListError(source: path, line: 0, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
            guard bytes.count <= 16 << 20 else { throw ChartListError(source: path, line: 0, message: "larger than 16 MiB") }
        }
        return try parse(bytes, source: path)
    }

    /// Parses and validates chart-list text.
    public static func parse(_ bytes: [UInt8], source: String) throws(ChartListError) -> ChartList {
        do {
            return try decode(bytes, source: source)
        } catch {
            throw ChartListError(source: source, line: error.line, message: error.message)
        }
    }

    private static func decode(_ bytes: [UInt8], source: String) throws(YAMLError) -> ChartList {
        guard let root = try YAMLDocument.load(bytes, source: source) else {
            throw YAMLError(source: source, line: 1, column: 1, message: "the chart list is empty")
        }
        var list = ChartList(repositories: [], charts: [])
        for (key, value) in try IndexFields(root, path: "chart list", source: source).fields(known: topKeys) {
            switch key {
            case "repositories":
                for item in try value.list() { list.repositories.append(try repository(item)) }
            default:
                for item in try value.list() { list.charts.append(try chart(item)) }
            }
        }
        try validate(list, source: source)
        return list
    }

    private static func repository(_ item: IndexFields) throws(YAMLError) -> ChartList.Repository {
        var r = ChartList.Repository(name: "", url: "")
        r.line = item.node.line
        for (key, value) in try item.fields(known: repositoryKeys) {
            switch key {
            case "name": r.name = try value.string() ?? ""
            case "url": r.url = try value.string() ?? ""
            case "caFile": r.caFile = try value.string()
            case "certFile": r.certFile = try value.string()
            case "keyFile": r.keyFile = try value.string()
            case "insecureSkipTLSVerify": r.insecureSkipTLSVerify = try value.bool()
            case "passCredentials": r.passCredentials = try value.bool()
            case "usernameEnv": r.usernameEnv = try value.string()
            case "passwordEnv": r.passwordEnv = try value.string()
            case "tokenEnv": r.tokenEnv = try value.string()
            default: r.credentialsFile = try value.string()
            }
        }
        guard !r.name.isEmpty else { throw item.error("a repository needs a name") }
        guard !r.url.isEmpty else { throw item.error("repository \"\(r.name)\" needs a url") }
        if let separator = r.url.firstRange(of: "://"), case let scheme = r.url[..<separator.lowerBound].lowercased(),
           !["http", "https", "file"].contains(scheme) {
            throw item.error("repository \"\(r.name)\": url must be http://, https://, file:// or a folder, not \(scheme)://")
        }
        if (r.certFile == nil) != (r.keyFile == nil) {
            throw item.error("repository \"\(r.name)\": certFile and keyFile go together")
        }
        if r.tokenEnv != nil && (r.usernameEnv != nil || r.passwordEnv != nil) {
            throw item.error("repository \"\(r.name)\": use tokenEnv or usernameEnv/passwordEnv, not both")
        }
        if (r.usernameEnv == nil) != (r.passwordEnv == nil) {
            throw item.error("repository \"\(r.name)\": usernameEnv and passwordEnv go together")
        }
        if r.credentialsFile != nil && (r.tokenEnv != nil || r.usernameEnv != nil) {
            throw item.error("repository \"\(r.name)\": use credentialsFile or environment variables, not both")
        }
        return r
    }

    private static func chart(_ item: IndexFields) throws(YAMLError) -> ChartList.Chart {
        var c = ChartList.Chart(name: "", repository: "")
        c.line = item.node.line
        for (key, value) in try item.fields(known: chartKeys) {
            switch key {
            case "name": c.name = try value.string() ?? ""
            case "repository": c.repository = try value.string() ?? ""
            case "version": c.version = try value.string()
            case "devel": c.devel = try value.bool()
            case "unpack": c.unpack = try value.bool()
            default: c.allowMissingDigest = try value.bool()
            }
        }
        guard !c.name.isEmpty else { throw item.error("a chart needs a name") }
        guard ChartName.isValid(c.name) else { throw item.error("\"\(c.name)\" is not a valid chart name") }
        guard !c.repository.isEmpty else { throw item.error("chart \"\(c.name)\" needs a repository") }
        if let version = c.version {
            do {
                _ = try VersionConstraint(parsing: version)
            } catch {
                throw item.error("chart \"\(c.name)\": \(error.description)")
            }
        }
        return c
    }

    private static func validate(_ list: ChartList, source: String) throws(YAMLError) {
        var repositories: [String: Int] = [:]
        for r in list.repositories {
            if let first = repositories[r.name] {
                throw YAMLError(source: source, line: r.line, column: 1,
                                message: "repository \"\(r.name)\" is listed twice (first at line \(first))")
            }
            repositories[r.name] = r.line
        }
        var charts: [String: Int] = [:]
        for c in list.charts {
            if let first = charts[c.name] {
                throw YAMLError(source: source, line: c.line, column: 1,
                                message: "chart \"\(c.name)\" is listed twice (first at line \(first))")
            }
            charts[c.name] = c.line
            guard repositories[c.repository] != nil else {
                let known = repositories.keys.sorted().joined(separator: ", ")
                throw YAMLError(source: source, line: c.line, column: 1,
                                message: "chart \"\(c.name)\" names repository \"\(c.repository)\", which is not listed (known: \(known.isEmpty ? "none" : known))")
            }
        }
    }
}
