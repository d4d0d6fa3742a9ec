internal import CArchive
import ChartSyncCore
import Glibc

/// What chart extraction and bundle reading ask of a libarchive entry header: its name as UTF-8
/// text and whether its type and mode are on the allow-list. Pure reads of the header, no file system.
enum LibArchiveEntry {
    /// The entry's name for messages, and either its text (valid UTF-8) or why it cannot be used.
    static func name(of entry: OpaquePointer) -> (display: String, text: String?, problem: String?) {
        if let pointer = archive_entry_pathname_utf8(entry) {
            let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            if let text = String(validating: bytes, as: UTF8.self) { return (text, text, nil) }
            return (String(decoding: bytes, as: UTF8.self), nil, "has a name that is not valid UTF-8")
        }
        guard let pointer = archive_entry_pathname(entry) else { return ("", nil, "has no name") }
        let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
        if String(validating: bytes, as: UTF8.self) != nil {
            // libarchive converts names through the process locale; in the C locale it cannot.
            return (String(decoding: bytes, as: UTF8.self), nil,
                    "has a name libarchive cannot convert to UTF-8 in this locale (run in a UTF-8 locale such as C.UTF-8)")
        }
        return (String(decoding: bytes, as: UTF8.self), nil, "has a name that is not valid UTF-8")
    }

    /// Accepts regular files and directories without setuid, setgid or sticky bits and without
    /// sparse data; returns whether the entry is a directory, or why it is refused.
    static func kind(of entry: OpaquePointer) -> Result<Bool, EntryPath.Refusal> {
        if let target = archive_entry_hardlink(entry) {
            return .failure(EntryPath.Refusal("is a hard link to \(Quoting.doubleQuoted(String(cString: target)))"))
        }
        let type = UInt32(archive_entry_filetype(entry)) & carchive_AE_IFMT
        if type == carchive_AE_IFLNK || archive_entry_symlink(entry) != nil {
            let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
            return .failure(EntryPath.Refusal("is a symbolic link to \(Quoting.doubleQuoted(target))"))
        }
        let isDirectory: Bool
        switch type {
        case carchive_AE_IFREG: isDirectory = false
        case carchive_AE_IFDIR: isDirectory = true
        case carchive_AE_IFCHR: return .failure(EntryPath.Refusal("is a character device"))
        case carchive_AE_IFBLK: return .failure(EntryPath.Refusal("is a block device"))
        case carchive_AE_IFIFO: return .failure(EntryPath.Refusal("is a FIFO"))
        case carchive_AE_IFSOCK: return .failure(EntryPath.Refusal("is a socket"))
        default:
            return .failure(EntryPath.Refusal("has an unsupported file type (mode \(String(archive_entry_mode(entry), radix: 8)))"))
        }
        let mode = permissions(of: entry)
        if mode & 0o7000 != 0 {
            return .failure(EntryPath.Refusal("has the setuid, setgid or sticky bit (mode \(String(mode, radix: 8)))"))
        }
        if !isDirectory, archive_entry_sparse_count(entry) > 0 { return .failure(EntryPath.Refusal("is a sparse file")) }
        return .success(isDirectory)
    }

    /// The permission bits of the entry (setuid, setgid, sticky and rwx for all).
    static func permissions(of entry: OpaquePointer) -> UInt32 {
        UInt32(archive_entry_mode(entry)) & 0o7777
    }

    /// A new libarchive reader for chart tarballs: gzip'd (or plain) tar only, no other formats and
    /// no filters that run external programs. The caller opens and frees it.
    static func newChartReader() -> OpaquePointer? {
        guard let reader = archive_read_new() else { return nil }
        archive_read_support_filter_gzip(reader)
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        return reader
    }

    /// The next entry of `reader` and whether libarchive warned about it, nil at the end; an error
    /// names `archive` and the entry read before (`previous`).
    static func next(_ reader: OpaquePointer, archive: String, previous: String?) throws(ArchiveError) -> (entry: OpaquePointer, warned: Bool)? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(reader, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            var after = ""
            if let previous { after = " (after entry \(Quoting.doubleQuoted(previous)))" }
            throw .unreadable(path: archive, message: message(reader) + after)
        }
        return (entry, status == ARCHIVE_WARN)
    }

    /// libarchive's last error text for `archive` (a reader or a writer).
    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
