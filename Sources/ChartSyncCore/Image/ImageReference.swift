/// Why an image reference was refused.
public struct ImageReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    /// Creates an error.
    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "invalid image reference \"\(text)\": \(reason)" }
}

/// A container image reference, `[registry/]repository[:tag][@digest]`, normalized as Docker
/// and containerd do: no registry means `docker.io`, a one-component Docker Hub repository is
/// under `library/`, `index.docker.io` is `docker.io`. A first component is a registry when it
/// holds a `.` or a `:` or is `localhost`.
public struct ImageReference: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The registry host (and port): `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`.
    public var registry: String
    /// The repository path in the registry: `library/nginx`, `nvidia/k8s-device-plugin`.
    public var repository: String
    /// The tag, when one was given.
    public var tag: String?
    /// The manifest digest (`sha256:<64 hex>`), when one was given.
    public var digest: String?

    /// Creates a reference from its parts (taken as they are).
    public init(registry: String, repository: String, tag: String?, digest: String?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalizes a reference.
    public init(parsing text: String) throws(ImageReferenceError) {
        func fail(_ reason: String) -> ImageReferenceError { ImageReferenceError(text: text, reason: reason) }
        guard !text.isEmpty else { throw fail("it is empty") }
        guard text.utf8.count <= 4096, !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7f }) else {
            throw fail("it holds spaces, control or non-ASCII characters")
        }
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard ImageReference.isDigest(value) else { throw fail("the digest must be sha256:<64 lowercase hex> (or another algorithm:hex)") }
            digest = value
            rest = rest[..<at]
        }
        var tag: String?
        // A ":" after the last "/" starts the tag (one before it is a registry port).
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let value = String(rest[rest.index(after: colon)...])
            guard ImageReference.isTag(value) else { throw fail("the tag \"\(value)\" is not valid (letters, digits, _ . -, at most 128, not starting with . or -)") }
            tag = value
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, !components.contains(where: \.isEmpty) else { throw fail("the name has an empty path component") }
        var registry = "docker.io"
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
            guard ImageReference.isRegistry(first) else { throw fail("the registry \"\(first)\" is not a host[:port]") }
            registry = first == "index.docker.io" || first == "registry-1.docker.io" ? "docker.io" : first
            components.removeFirst()
        }
        for component in components where !ImageReference.isPathComponent(component) {
            throw fail("the name component \"\(component)\" must be lowercase letters and digits, separated by . _ __ or -")
        }
        if registry == "docker.io" && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard registry.count + 1 + repository.count <= 255 else { throw fail("the name is longer than 255 characters") }
        self.init(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// The full normalized form: `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// `registry/repository` (no tag, no digest).
    public var name: String { registry + "/" + repository }

    /// The same image without its digest.
    public var withoutDigest: ImageReference { ImageReference(registry: registry, repository: repository, tag: tag, digest: nil) }

    /// Orders by the full normalized text.
    public static func < (a: ImageReference, b: ImageReference) -> Bool { a.description < b.description }

    // MARK: - Grammar (the distribution project's reference grammar)

    static func isDigest(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let algorithm = text[..<colon], hex = text[text.index(after: colon)...]
        guard !algorithm.isEmpty, algorithm.allSatisfy({ $0.isLowercase && $0.isASCII || $0.isNumber || "+._-".contains($0) }) else { return false }
        guard hex.count >= 32, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return false }
        return algorithm != "sha256" || hex.count == 64
    }

    static func isTag(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 128, first != ".", first != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    static func isRegistry(_ text: String) -> Bool {
        var host = Substring(text)
        if let colon = text.lastIndex(of: ":") {
            let port = text[text.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else { return false }
            host = text[..<colon]
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { return host.count > 2 }   // IPv6 literal
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.first != "-" && label.last != "-" && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    static func isPathComponent(_ text: String) -> Bool {
        let chars = Array(text)
        func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
        guard let first = chars.first, let last = chars.last, alnum(first), alnum(last) else { return false }
        var i = 0
        while i < chars.count {
            if alnum(chars[i]) { i += 1; continue }
            // A separator run: ".", "_", "__" or one or more "-".
            var j = i
            while j < chars.count && !alnum(chars[j]) { j += 1 }
            let separator = String(chars[i..<j])
            guard separator == "." || separator == "_" || separator == "__" || separator.allSatisfy({ $0 == "-" }) else { return false }
            i = j
        }
        return true
    }
}
