/// URL rules for Helm repositories: where the index lives and where a chart's URL points.
public enum RepositoryURL {
    /// The URL of `index.yaml` under a repository URL (query string kept, as Helm does).
    public static func index(of repository: String) -> String {
        resolve(base: repository, reference: "index.yaml")
    }

    /// Resolves a URL from an index against the repository URL exactly as Helm's
    /// `ResolveReferenceURL` does: absolute references pass through; otherwise the base path is
    /// treated as a directory (a trailing slash is added), RFC 3986 resolution applies, and the
    /// base URL's query string replaces the reference's.
    public static func resolve(base: String, reference: String) -> String {
        if Parts(reference).scheme != nil { return reference }
        var b = Parts(base)
        if !b.path.hasSuffix("/") { b.path += "/" }
        let r = Parts(reference)
        var out = Parts(scheme: b.scheme, authority: b.authority, path: "", query: b.query,
                        fragment: r.fragment)
        if let authority = r.authority {
            out.authority = authority
            out.path = removeDotSegments(r.path)
        } else if r.path.isEmpty {
            out.path = b.path
        } else if r.path.hasPrefix("/") {
            out.path = removeDotSegments(r.path)
        } else {
            let dir = b.path[...(b.path.lastIndex(of: "/")!)]
            // A folder repository written relative to the chart list ("../repo") keeps its
            // leading "..": the result stays relative to the same directory.
            let relativeBase = b.scheme == nil && b.authority == nil && !b.path.hasPrefix("/")
            out.path = removeDotSegments(dir + r.path, keepLeadingParents: relativeBase)
        }
        return out.text
    }

    /// The URL for messages, files and results: userinfo (`user:password@`) removed and the values
    /// of secret-looking query parameters (token, password, signature, key, ...) replaced by
    /// `REDACTED`. Works on any string, valid URL or not.
    public static func redacted(_ url: String) -> String {
        // Without "://", whatever precedes the first "/" is taken as the authority.
        let schemeless = !url.contains("://")
        var p = Parts(schemeless ? "//" + url : url)
        if let authority = p.authority, let at = authority.lastIndex(of: "@") {
            p.authority = String(authority[authority.index(after: at)...])
        }
        if let query = p.query {
            p.query = query.split(separator: "&", omittingEmptySubsequences: false).map { parameter in
                guard let equals = parameter.firstIndex(of: "="), isSecretParameter(parameter[..<equals]) else {
                    return String(parameter)
                }
                return parameter[..<equals] + "=REDACTED"
            }.joined(separator: "&")
        }
        return schemeless ? String(p.text.dropFirst(2)) : p.text
    }

    /// Whether a query parameter name looks like it carries a secret.
    private static func isSecretParameter(_ name: Substring) -> Bool {
        let lower = name.lowercased()
        let contained = ["token", "passw", "secret", "signature", "credential", "apikey", "api_key", "api-key", "auth"]
        if contained.contains(where: { lower.contains($0) }) { return true }
        return ["sig", "key", "pass", "pwd", "pw", "code", "session", "sid"].contains(lower)
    }

    /// Whether two URLs have the same scheme, host and port (userinfo ignored, case-insensitive).
    public static func sameOrigin(_ a: String, _ b: String) -> Bool {
        func origin(_ url: String) -> String {
            let p = Parts(url)
            var authority = p.authority ?? ""
            if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
            return ((p.scheme ?? "") + "://" + authority).lowercased()
        }
        return origin(a) == origin(b)
    }

    /// The components of a URL as RFC 3986 splits them, kept as written (no decoding).
    struct Parts {
        var scheme: String?
        var authority: String?
        var path: String
        var query: String?
        var fragment: String?

        init(scheme: String?, authority: String?, path: String, query: String?, fragment: String?) {
            self.scheme = scheme
            self.authority = authority
            self.path = path
            self.query = query
            self.fragment = fragment
        }

        init(_ text: String) {
            var rest = Substring(text)
            if let hash = rest.firstIndex(of: "#") {
                fragment = String(rest[rest.index(after: hash)...])
                rest = rest[..<hash]
            }
            if let q = rest.firstIndex(of: "?") {
                query = String(rest[rest.index(after: q)...])
                rest = rest[..<q]
            }
            if let colon = rest.firstIndex(of: ":"),
               let first = rest.first, first.isLetter,
               rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) {
                scheme = String(rest[..<colon])
                rest = rest[rest.index(after: colon)...]
            }
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                authority = String(rest[..<end])
                rest = rest[end...]
            }
            path = String(rest)
        }

        var text: String {
            var s = ""
            if let scheme { s += scheme + ":" }
            if let authority { s += "//" + authority }
            s += path
            if let query { s += "?" + query }
            if let fragment { s += "#" + fragment }
            return s
        }
    }

    /// RFC 3986 section 5.2.4; with `keepLeadingParents` (relative paths), ".." that climbs above
    /// the start is kept rather than dropped.
    static func removeDotSegments(_ path: String, keepLeadingParents: Bool = false) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (i, segment) in segments.enumerated() {
            let last = i == segments.count - 1
            switch segment {
            case ".":
                if last { output.append("") }
            case "..":
                if keepLeadingParents {
                    if let previous = output.last, previous != ".." { output.removeLast() } else { output.append("..") }
                } else if output.count > 1 {
                    output.removeLast()
                }
                if last { output.append("") }
            default:
                output.append(segment)
            }
        }
        var joined = output.joined(separator: "/")
        if path.hasPrefix("/") && !joined.hasPrefix("/") { joined = "/" + joined }
        return joined
    }

    /// The registry (`HOST[:PORT]`) and path (maybe empty, no slashes at either end) of an
    /// `oci://` URL; nil for any other URL.
    public static func ociLocation(_ url: String) -> (registry: String, path: String)? {
        guard url.lowercased().hasPrefix("oci://") else { return nil }
        let rest = url.dropFirst("oci://".count)
        let registry = rest.prefix { $0 != "/" }
        var path = rest.dropFirst(registry.count)
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        return (String(registry), String(path))
    }
}
