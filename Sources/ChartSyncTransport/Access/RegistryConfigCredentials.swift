import ChartSyncBasics
import Glibc

/// Registry credentials that `helm registry login` and `docker login` stored, by registry name
/// (for registries the chart list gives no credentials for).
///
/// The files, in precedence order (the first that has a registry wins, as in Helm, which falls
/// back from its own file to Docker's): Helm's `$HELM_REGISTRY_CONFIG`, else
/// `$HELM_CONFIG_HOME/registry/config.json`, else `$XDG_CONFIG_HOME/helm/registry/config.json`,
/// else `~/.config/helm/registry/config.json`; then Docker's `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`. A file that does not exist is skipped.
///
/// Only `auths` is read: `auths.<key>.auth` (base64 of `user:password`), else `username` and
/// `password`, else `registrytoken` (a bearer token the registry accepts as it is). Entries with
/// none of these (an `identitytoken` alone, or the empty entries `docker login` leaves when a
/// helper keeps the secret) are skipped. Credential helpers (`credHelpers`, `credsStore`) are
/// ignored: chartsync runs no helper programs. Keys may be host names or URLs
/// (`https://index.docker.io/v1/`): the registry name is the host[:port], lowercased, with
/// Docker Hub's names (`index.docker.io`, `registry-1.docker.io`) as `docker.io`.
///
/// Errors name the file and the registry key, never a secret.
public enum RegistryConfigCredentials {
    /// The largest config file read: 1 MiB.
    public static let sizeLimit = 1 << 20

    /// The files consulted for `environment` (HOME, HELM_REGISTRY_CONFIG, HELM_CONFIG_HOME,
    /// XDG_CONFIG_HOME, DOCKER_CONFIG), in precedence order.
    public static func files(environment: [String: String]) -> [String] {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        var files: [String] = []
        let home = value("HOME")
        if let file = value("HELM_REGISTRY_CONFIG") {
            files.append(file)
        } else if let directory = value("HELM_CONFIG_HOME") {
            files.append(directory + "/registry/config.json")
        } else if let directory = value("XDG_CONFIG_HOME") {
            files.append(directory + "/helm/registry/config.json")
        } else if let home {
            files.append(home + "/.config/helm/registry/config.json")
        }
        if let directory = value("DOCKER_CONFIG") {
            files.append(directory + "/config.json")
        } else if let home {
            files.append(home + "/.docker/config.json")
        }
        return files
    }

    /// The credentials of every registry named in the files for `environment`, by registry name.
    public static func load(environment: [String: String]) throws(CredentialsError) -> [String: Credentials] {
        var result: [String: Credentials] = [:]
        for file in files(environment: environment) {
            guard let bytes = try readFile(file) else { continue }
            for (registry, credentials) in try parse(bytes, path: file) where result[registry] == nil {
                result[registry] = credentials
            }
        }
        return result
    }

    /// The credentials in one config file's bytes, by registry name; `path` only names it in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(CredentialsError) -> [String: Credentials] {
        func malformed(_ message: String) -> CredentialsError { .malformedRegistryConfig(path: path, message: message) }
        guard let json = JSONValue.parse(bytes), case .object = json else { throw malformed("not a JSON object") }
        guard let auths = json["auths"], auths != .null else { return [:] }
        guard case let .object(entries) = auths else { throw malformed("\"auths\" is not an object") }
        var found: [String: (key: String, credentials: Credentials)] = [:]
        for (key, entry) in entries {
            let name = registryName(forKey: key)
            guard !name.isEmpty else { continue }
            let field = "auths.\"\(key.prefix(200))\""
            guard case .object = entry else { throw malformed("\(field) is not an object") }
            func string(_ member: String) throws(CredentialsError) -> String? {
                guard let value = entry[member], value != .null else { return nil }
                guard let text = value.string else { throw malformed("\(field).\(member) is not a string") }
                return text.isEmpty ? nil : text
            }
            let credentials: Credentials
            if let auth = try string("auth") {
                guard let decoded = Base64.decode(auth) else { throw malformed("\(field).auth is not base64") }
                guard let text = String(validating: decoded, as: UTF8.self), let colon = text.firstIndex(of: ":"),
                      colon != text.startIndex else {
                    throw malformed("\(field).auth does not decode to user:password")
                }
                credentials = .basic(username: String(text[..<colon]),
                                     password: String(text[text.index(after: colon)...]))
            } else if let username = try string("username") {
                credentials = .basic(username: username, password: try string("password") ?? "")
            } else if let token = try string("registrytoken") {
                credentials = .bearer(token: token)
            } else {
                continue
            }
            // Two keys for one registry (a URL and a host name): the one written as the name wins,
            // else the smaller key, so that the choice does not depend on dictionary order.
            if let existing = found[name] {
                let keepExisting = existing.key == name || (key != name && existing.key < key)
                if keepExisting { continue }
            }
            found[name] = (key, credentials)
        }
        return found.mapValues(\.credentials)
    }

    /// The registry name a key of `auths` stands for: the host[:port] of a URL or name, lowercased;
    /// Docker Hub's hosts as `docker.io`.
    public static func registryName(forKey key: String) -> String {
        var text = Substring(key.lowercased())
        if let separator = text.firstRange(of: "://") { text = text[separator.upperBound...] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let name = String(text)
        return ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(name) ? "docker.io" : name
    }

    /// The bytes of `path`, nil when it does not exist (symbolic links are followed: the file is
    /// only read).
    private static func readFile(_ path: String) throws(CredentialsError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .unreadable(path: path, message: SystemError.text(errno))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, message: SystemError.text(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, message: "not a regular file") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, message: SystemError.text(errno))
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<n])
            guard bytes.count <= sizeLimit else { throw .unreadable(path: path, message: "larger than 1 MiB") }
        }
    }
}
