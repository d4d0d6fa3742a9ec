/// `FILE.parts`, written beside a split bundle: every part's size, SHA-256 and file name, in
/// order, and the SHA-256 of the whole stream, so that each part can be checked on its own.
public struct BundlePartsList: Sendable, Equatable {
    /// One part.
    public struct Part: Sendable, Equatable {
        /// The part's file name (no directory).
        public let name: String
        /// Its size in bytes.
        public let size: Int64
        /// The SHA-256 of its bytes.
        public let sha256: Digest

        /// Creates a part line.
        public init(name: String, size: Int64, sha256: Digest) {
            self.name = name
            self.size = size
            self.sha256 = sha256
        }
    }

    /// The parts, in stream order.
    public let parts: [Part]
    /// The SHA-256 of the parts concatenated (the whole bundle stream), when recorded.
    public let whole: Digest?

    /// Creates a parts list.
    public init(parts: [Part], whole: Digest?) {
        self.parts = parts
        self.whole = whole
    }
}

/// `FILE.sha256`, written beside a bundle: `sha256sum` lines (`<hex>  <name>`) for the bundle
/// (or each part) and the parts file, checkable with `sha256sum -c`.
public struct ChecksumList: Sendable, Equatable {
    /// One line.
    public struct Line: Sendable, Equatable {
        /// The file's SHA-256.
        public let sha256: Digest
        /// The file's name (no directory).
        public let name: String

        /// Creates a line.
        public init(sha256: Digest, name: String) {
            self.sha256 = sha256
            self.name = name
        }
    }

    /// The lines, in order.
    public let lines: [Line]

    /// Creates a list.
    public init(lines: [Line]) {
        self.lines = lines
    }

    /// The digest recorded for `name`, if any.
    public func digest(of name: String) -> Digest? {
        lines.first { $0.name == name }?.sha256
    }
}
