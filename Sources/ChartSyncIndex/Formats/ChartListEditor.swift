import ChartSyncCore

/// Adds entries to a chart list's text without disturbing the rest of it: every existing line
/// (comments, order, spacing) stays byte-identical; new entries go at the end of their list,
/// indented like the entries already there (two spaces and `- ` when the list is empty).
public enum ChartListEditor {
    /// Why an entry cannot be added.
    public struct EditError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, naming the file's line when it is about one.
        public let message: String

        public var description: String { message }
    }

    /// `text` with a chart entry (and, when `repository` is given, a repository entry) added.
    /// `list` is `text` read (ChartListReader); a chart already listed is refused naming its line.
    public static func adding(chart: ChartList.Chart, repository: ChartList.Repository?, to text: String,
                              list: ChartList, source: String) throws(EditError) -> String {
        if let listed = list.charts.first(where: { $0.name == chart.name }) {
            throw EditError(message: "\(source):\(listed.line): chart \"\(chart.name)\" is already listed (from repository \"\(listed.repository)\")")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // A final newline leaves one empty element at the end; keep it there.
        let endsWithNewline = text.hasSuffix("\n")
        if endsWithNewline { lines.removeLast() }
        if let repository {
            if let same = list.repositories.first(where: { $0.name == repository.name }) {
                throw EditError(message: "\(source):\(same.line): repository \"\(repository.name)\" is already listed (with url \(same.url))")
            }
            var entry = ["name: \(quoted(repository.name))", "url: \(quoted(repository.url))"]
            if repository.plainHTTP { entry.append("plainHTTP: true") }
            lines = try insert(entry, under: "repositories", into: lines, source: source)
        }
        var entry = ["name: \(quoted(chart.name))", "repository: \(quoted(chart.repository))"]
        if let version = chart.version { entry.append("version: \"\(version.replacing("\\", with: "\\\\").replacing("\"", with: "\\\""))\"") }
        if chart.devel { entry.append("devel: true") }
        if chart.unpack { entry.append("unpack: true") }
        lines = try insert(entry, under: "charts", into: lines, source: source)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A plain scalar when it is safe as one, else a double-quoted string.
    static func quoted(_ text: String) -> String {
        let safe = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            (scalar.value >= 0x30 && scalar.value <= 0x39) || (scalar.value >= 0x41 && scalar.value <= 0x5a)
                || (scalar.value >= 0x61 && scalar.value <= 0x7a) || "-._/".unicodeScalars.contains(scalar)
        } && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(text.lowercased())
            && !(text.first?.isNumber ?? false)
        return safe ? text : "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    /// `lines` with a list item of `fields` appended to the top-level list `key` (created at the
    /// end of the file when absent; `key: []` becomes a block list).
    static func insert(_ fields: [String], under key: String, into lines: [String], source: String) throws(EditError) -> [String] {
        var lines = lines
        func isTopLevelKey(_ line: String) -> Bool {
            guard let first = line.first, first != " ", first != "\t", first != "#", first != "-" else { return false }
            return line.contains(":")
        }
        func item(indent: String, dash: String) -> [String] {
            let first = indent + dash + fields[0]
            let rest = fields.dropFirst().map { indent + String(repeating: " ", count: dash.count) + $0 }
            return [first] + rest
        }
        guard let start = lines.firstIndex(where: { isTopLevelKey($0) && $0.hasPrefix(key + ":") }) else {
            // No such list yet: a new block at the end.
            return lines + [key + ":"] + item(indent: "  ", dash: "- ")
        }
        let rest = lines[start].dropFirst(key.count + 1).trimmingCharacters(in: " \t")
        if rest.hasPrefix("[]") {
            let comment = rest.dropFirst(2).trimmingCharacters(in: " \t")
            guard comment.isEmpty || comment.hasPrefix("#") else {
                throw EditError(message: "\(source):\(start + 1): cannot add to \(key): after []")
            }
            lines[start] = key + ":" + (comment.isEmpty ? "" : "  " + comment)
            lines.insert(contentsOf: item(indent: "  ", dash: "- "), at: start + 1)
            return lines
        }
        guard rest.isEmpty || rest.hasPrefix("#") else {
            throw EditError(message: "\(source):\(start + 1): \(key): is written inline; add the entry by hand")
        }
        // The block runs to the next top-level key; the entry goes after its last content line.
        var end = start + 1
        while end < lines.count && !isTopLevelKey(lines[end]) { end += 1 }
        var last = start
        var dashLine: String?
        for index in (start + 1)..<end {
            let trimmed = lines[index].trimmingCharacters(in: " \t")
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            last = index
            if trimmed.hasPrefix("- ") || trimmed == "-" { dashLine = lines[index] }
        }
        var indent = "  "
        var dash = "- "
        if let dashLine {
            indent = String(dashLine.prefix { $0 == " " })
            let afterDash = dashLine.dropFirst(indent.count + 1)
            dash = "-" + String(afterDash.prefix { $0 == " " })
            if dash == "-" { dash = "- " }
        }
        lines.insert(contentsOf: item(indent: indent, dash: dash), at: last + 1)
        return lines
    }
}

extension String {
    /// Without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}

extension Substring {
    /// Without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(self).trimmingCharacters(in: set)
    }
}
