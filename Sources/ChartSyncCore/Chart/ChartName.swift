/// Rules for chart names, checked before a name is used in a path.
public enum ChartName {
    /// Whether `name` is a single, safe path component: not empty, not `.` or `..`, and free of
    /// `/`, `\`, NUL and other control characters. (Helm rejects names that are not their own
    /// base name; chartsync also refuses backslashes and control characters.)
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { c in
            c != "/" && c != "\\" && c.value >= 0x20 && c.value != 0x7f
        }
    }
}
