import Foundation

/// Paths as the user typed them, made absolute against the working directory.
enum Paths {
    /// An absolute path as shown to the user: relative to the working directory when under it.
    static func display(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }

    /// `path` made absolute against the working directory (unchanged when it already is).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
