import ChartSyncBasics
import ChartSyncCore
import Glibc

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
    static let topKeys: Set<String> = ["repositories", "charts", "images", "bundle"]
    static let bundleKeys: Set<String> = ["include"]
    static let accessKeys: Set<String> = [
        "caFile", "certFile", "keyFile", "insecureSkipTLSVerify", "usernameEnv", "passwordEnv", "tokenEnv", "credentialsFile",
    ]
    static let repositoryKeys = accessKeys.union(["name", "url", "passCredentials", "plainHTTP"])
    static let imagesKeys: Set<String> = ["extra", "exclude", "registries", "platforms"]
    static let registryKeys = accessKeys.union(["host", "plainHTTP"])
    static let chartKeys: Set<String> = ["name", "repository", "version", "devel", "unpack", "allowMissingDigest", "values"]

    /// Reads the chart list at `path`.
    public static func read(path: String) throws(ChartListError) -> ChartList {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw ChartListError(source: path, line: 0, message: "cannot read: \(SystemError.text())")
        }
        guard let file = fopen(path, "rb") else {
            throw ChartListError(source: path, line: 0, message: "cannot read: \(SystemError.text())")
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

    /// Every TLS or credentials file the list names for its repositories (pull) or registries
    /// (`images --resolve`) must be readable, checked by the command that will connect, before
    /// any network: a missing `caFile` is the list's error (with its line), not a TLS failure
    /// later. Offline commands (the gate, bundle, `images --check`) never need these files.
    public static func checkFiles(_ list: ChartList, source: String, repositories: Bool = true,
                                  registries: Bool = false) throws(ChartListError) {
        let root = FileSystem.parent(of: source)
        let home = getenv("HOME").map { String(cString: $0) }
        let holders = (repositories ? list.repositories.map { ("repository \"\($0.name)\"", $0.line, $0.access) } : [])
            + (registries ? list.images.registries.map { ("registry \"\($0.host)\"", $0.line, $0.access) } : [])
        for (what, line, access) in holders {
            for (key, path) in access.files {
                let resolved = ChartList.Access.resolve(path, root: root, home: home)
                guard Glibc.access(resolved, R_OK) == 0 else {
                    let shown = resolved == path ? path : "\(path) (\(resolved))"
                    throw ChartListError(source: source, line: line, message: "\(what): \(key) \(shown) cannot be read: \(SystemError.text())")
                }
            }
        }
    }

    /// Every values file a chart names (`values:`) must be a readable regular file, checked by
    /// the commands that scan images with them (`images`, the gate's images check, bundle): a
    /// missing one is the list's error naming the chart, the line and the file.
    public static func checkValuesFiles(_ list: ChartList, source: String) throws(ChartListError) {
        let root = FileSystem.parent(of: source)
        for chart in list.charts {
            for file in chart.values {
                let full = root + "/" + file.path
                var info = stat()
                let problem: String?
                if lstat(full, &info) != 0 {
                    problem = SystemError.text()
                } else if (info.st_mode & S_IFMT) != S_IFREG {
                    problem = (info.st_mode & S_IFMT) == S_IFLNK ? "it is a symbolic link" : "not a regular file"
                } else if Glibc.access(full, R_OK) != 0 {
                    problem = SystemError.text()
                } else {
                    problem = nil
                }
                if let problem {
                    throw ChartListError(source: source, line: file.line,
                                         message: "chart \"\(chart.name)\": values file \(file.path) cannot be read: \(problem)")
                }
            }
        }
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
            case "images":
                list.images = try images(value)
            case "bundle":
                list.bundle = try bundle(value)
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
            case "passCredentials": r.passCredentials = try value.bool()
            case "plainHTTP": r.plainHTTP = try value.bool()
            default: try access(key, value, into: &r.access)
            }
        }
        guard !r.name.isEmpty else { throw item.error("a repository needs a name") }
        guard !r.url.isEmpty else { throw item.error("repository \"\(r.name)\" needs a url") }
        if let separator = r.url.firstRange(of: "://"), case let scheme = r.url[..<separator.lowerBound].lowercased(),
           !["http", "https", "file", "oci"].contains(scheme) {
            throw item.error("repository \"\(r.name)\": url must be http://, https://, oci://, file:// or a folder, not \(scheme)://")
        }
        if let (registry, path) = r.ociLocation {
            guard !registry.isEmpty, !registry.contains("@"),
                  (try? ImageReference(parsing: registry + "/x"))?.registry == registry else {
                throw item.error("repository \"\(r.name)\": \(r.url) must be oci://HOST[:PORT]/PATH (a registry name such as registry.example.com or 127.0.0.1:5000)")
            }
            guard path.isEmpty || (try? ImageReference(parsing: registry + "/" + path + "/x"))?.repository == path + "/x" else {
                throw item.error("repository \"\(r.name)\": \"\(path)\" in \(r.url) is not a registry repository path (lowercase letters, digits, separators)")
            }
        } else if r.plainHTTP {
            throw item.error("repository \"\(r.name)\": plainHTTP applies to oci:// repositories only (write http:// in the url)")
        }
        try validate(r.access, item, what: "repository \"\(r.name)\"")
        return r
    }

    /// One TLS or credentials key, shared by repositories and registries.
    private static func access(_ key: String, _ value: IndexFields, into a: inout ChartList.Access) throws(YAMLError) {
        switch key {
        case "caFile": a.caFile = try value.string()
        case "certFile": a.certFile = try value.string()
        case "keyFile": a.keyFile = try value.string()
        case "insecureSkipTLSVerify": a.insecureSkipTLSVerify = try value.bool()
        case "usernameEnv": a.usernameEnv = try value.string()
        case "passwordEnv": a.passwordEnv = try value.string()
        case "tokenEnv": a.tokenEnv = try value.string()
        default: a.credentialsFile = try value.string()
        }
    }

    private static func validate(_ a: ChartList.Access, _ item: IndexFields, what: String) throws(YAMLError) {
        if (a.certFile == nil) != (a.keyFile == nil) {
            throw item.error("\(what): certFile and keyFile go together")
        }
        if a.tokenEnv != nil && (a.usernameEnv != nil || a.passwordEnv != nil) {
            throw item.error("\(what): use tokenEnv or usernameEnv/passwordEnv, not both")
        }
        if (a.usernameEnv == nil) != (a.passwordEnv == nil) {
            throw item.error("\(what): usernameEnv and passwordEnv go together")
        }
        if a.credentialsFile != nil && (a.tokenEnv != nil || a.usernameEnv != nil) {
            throw item.error("\(what): use credentialsFile or environment variables, not both")
        }
    }

    /// The `images:` section: extra and exclude references, registries.
    private static func images(_ value: IndexFields) throws(YAMLError) -> ChartList.ImageSettings {
        var settings = ChartList.ImageSettings()
        for (key, field) in try value.fields(known: imagesKeys) {
            switch key {
            case "extra", "exclude":
                for item in try field.list() {
                    guard let text = try item.string(), !text.isEmpty else { throw item.error("images.\(key): an image reference is needed") }
                    let reference: ImageReference
                    do {
                        reference = try ImageReference(parsing: text)
                    } catch {
                        throw item.error("images.\(key): \(error.description)")
                    }
                    if key == "extra" {
                        guard reference.tag != nil || reference.digest != nil else {
                            throw item.error("images.extra: \"\(text)\" needs a tag or a digest (which version does the site need?)")
                        }
                        settings.extra.append(.init(text: text, line: item.node.line))
                    } else {
                        settings.exclude.append(.init(text: text, line: item.node.line))
                    }
                }
            case "platforms":
                for item in try field.list() {
                    let text = try item.string() ?? ""
                    guard let platform = ChartList.ImageSettings.Platform(parsing: text, line: item.node.line) else {
                        throw item.error("images.platforms: \"\(text)\" is not a platform such as linux/amd64 or linux/arm64/v8")
                    }
                    if let first = settings.platforms.first(where: { $0.description == platform.description }) {
                        throw item.error("images.platforms: \(platform) is listed twice (first at line \(first.line))")
                    }
                    settings.platforms.append(platform)
                }
            default:
                for item in try field.list() {
                    var registry = ChartList.ImageSettings.Registry(host: "")
                    registry.line = item.node.line
                    for (k, v) in try item.fields(known: registryKeys) {
                        switch k {
                        case "host": registry.host = try v.string() ?? ""
                        case "plainHTTP": registry.plainHTTP = try v.bool()
                        default: try access(k, v, into: &registry.access)
                        }
                    }
                    guard !registry.host.isEmpty else { throw item.error("a registry needs a host") }
                    guard (try? ImageReference(parsing: registry.host + "/x"))?.registry == registry.host else {
                        throw item.error("registry \"\(registry.host)\": host must be a registry name such as registry.example.com or 127.0.0.1:5000")
                    }
                    try validate(registry.access, item, what: "registry \"\(registry.host)\"")
                    if let first = settings.registry(registry.host) {
                        throw item.error("registry \"\(registry.host)\" is listed twice (first at line \(first.line))")
                    }
                    settings.registries.append(registry)
                }
            }
        }
        return settings
    }

    /// The `bundle:` section: `include` patterns, each parsed (a bad pattern is the list's error,
    /// with its line) and listed once.
    private static func bundle(_ value: IndexFields) throws(YAMLError) -> ChartList.BundleSettings {
        var settings = ChartList.BundleSettings()
        for (_, field) in try value.fields(known: bundleKeys) {
            for item in try field.list() {
                guard let text = try item.string(), !text.isEmpty else { throw item.error("bundle.include: a path or glob is needed") }
                let pattern: IncludePattern
                do {
                    pattern = try IncludePattern(parsing: text)
                } catch {
                    throw item.error("bundle.include: \(error.message)")
                }
                if let first = settings.include.first(where: { $0.pattern.text == text }) {
                    throw item.error("bundle.include: \(Quoting.doubleQuoted(text)) is listed twice (first at line \(first.line))")
                }
                settings.include.append(.init(pattern: pattern, line: item.node.line))
            }
        }
        return settings
    }

    private static func chart(_ item: IndexFields) throws(YAMLError) -> ChartList.Chart {
        var c = ChartList.Chart(name: "", repository: "")
        c.line = item.node.line
        for (key, value) in try item.fields(known: chartKeys) {
            switch key {
            case "name": c.name = try value.string() ?? ""
            case "repository": c.repository = try value.string() ?? ""
            case "version":
                c.version = try value.string()
                c.versionLine = value.node.line
            case "devel": c.devel = try value.bool()
            case "unpack": c.unpack = try value.bool()
            case "values":
                for entry in try value.list() {
                    c.values.append(ChartList.Chart.ValuesFile(path: try entry.string() ?? "", line: entry.node.line))
                }
            default: c.allowMissingDigest = try value.bool()
            }
        }
        guard !c.name.isEmpty else { throw item.error("a chart needs a name") }
        for file in c.values {
            let parts = file.path.split(separator: "/", omittingEmptySubsequences: false)
            guard !file.path.isEmpty, !file.path.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
                throw YAMLError(source: item.source, line: file.line, column: 1,
                                message: "chart \"\(c.name)\": values: \(Quoting.doubleQuoted(file.path)) must be a file path relative to the chart list, inside the project (no leading /, no .., no empty parts)")
            }
        }
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
