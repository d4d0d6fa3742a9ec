/// The name rules of chart extraction: which archive entry names are normalized, relative and
/// inside the chart's top directory. Pure functions, no file system.
enum EntryPath {
    /// An entry name split into its top directory and the path below it.
    struct Split: Equatable {
        /// The first component: the chart name, or `.` for charts packed as `./Chart.yaml`.
        let top: String
        /// The components below the top directory; empty for the top directory's own entry.
        let components: [String]

        /// The components joined with `/` (the path relative to the extraction directory).
        var relative: String { components.joined(separator: "/") }
    }

    /// Splits and checks `name`; returns the reason for refusing it otherwise. A directory's name
    /// may end with one `/`. Every other component must be non-empty, not `.` or `..`, and free of
    /// backslashes and control characters; `.` is accepted only as the whole top directory.
    static func split(_ name: String, isDirectory: Bool) -> Result<Split, Refusal> {
        if name.isEmpty { return .failure(Refusal("has an empty name")) }
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f { return .failure(Refusal("contains a control character")) }
            if scalar == "\\" { return .failure(Refusal("contains a backslash")) }
        }
        if name.hasPrefix("/") { return .failure(Refusal("is an absolute path")) }
        var body = Substring(name)
        if isDirectory, body.hasSuffix("/") { body = body.dropLast() }
        let parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.contains("..") { return .failure(Refusal("contains a '..' component")) }
        if parts.dropFirst().contains(".") { return .failure(Refusal("contains a '.' component")) }
        if parts.contains("") { return .failure(Refusal("contains an empty component")) }
        return .success(Split(top: parts[0], components: Array(parts.dropFirst())))
    }

    /// Why a name was refused.
    struct Refusal: Error, Equatable {
        /// The reason, as it appears in messages.
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Whether `a` sorts before `b` by their UTF-8 bytes (the order of `LC_ALL=C sort`).
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
