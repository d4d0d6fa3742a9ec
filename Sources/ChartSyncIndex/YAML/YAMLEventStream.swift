internal import CYAML
import Glibc

/// The kinds of libyaml parser events chartsync reacts to.
enum YAMLEventKind {
    case streamStart, streamEnd, documentStart, documentEnd
    case mappingStart, mappingEnd, sequenceStart, sequenceEnd
    case scalar, alias
}

/// A pull parser over libyaml events for one in-memory YAML text. The current event's data
/// (scalar bytes, anchor, line) is valid until the next call to `next()`.
final class YAMLEventStream {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let event: UnsafeMutablePointer<yaml_event_t>
    private var hasEvent = false
    /// A valid pointer for empty input (libyaml wants non-null).
    nonisolated(unsafe) private static let emptyInput: UnsafePointer<UInt8> = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))
    /// The name used in messages (a file path or a redacted URL).
    let source: String

    /// Parses `bytes`, which the caller keeps alive and unchanged for the stream's lifetime.
    init(bytes: UnsafeRawBufferPointer, source: String) {
        self.source = source
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        yaml_parser_initialize(parser)
        if let base = bytes.baseAddress, bytes.count > 0 {
            yaml_parser_set_input_string(parser, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        } else {
            yaml_parser_set_input_string(parser, YAMLEventStream.emptyInput, 0)
        }
    }

    /// Parses what `fileDescriptor` yields, read in libyaml's own blocks, so memory does not
    /// grow with the file's size. The caller keeps the descriptor open for the stream's lifetime.
    init(fileDescriptor: Int32, source: String) {
        self.source = source
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        yaml_parser_initialize(parser)
        let context = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        context.initialize(to: fileDescriptor)
        descriptor = context
        yaml_parser_set_input(parser, { data, buffer, size, sizeRead in
            let fd = data!.load(as: Int32.self)
            while true {
                let n = read(fd, buffer, size)
                if n >= 0 {
                    sizeRead!.pointee = n
                    return 1
                }
                if errno != EINTR { return 0 }
            }
        }, context)
    }

    private var descriptor: UnsafeMutablePointer<Int32>?

    deinit {
        descriptor?.deallocate()
        if hasEvent { yaml_event_delete(event) }
        yaml_parser_delete(parser)
        parser.deallocate()
        event.deallocate()
    }

    /// Advances to the next event.
    func next() throws(YAMLError) -> YAMLEventKind {
        if hasEvent {
            yaml_event_delete(event)
            hasEvent = false
        }
        guard yaml_parser_parse(parser, event) == 1 else {
            let p = parser.pointee
            let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = p.context.map { String(cString: $0) + ": " } ?? ""
            throw YAMLError(source: source, line: Int(p.problem_mark.line) + 1,
                            column: Int(p.problem_mark.column) + 1, message: context + problem)
        }
        hasEvent = true
        switch event.pointee.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_MAPPING_START_EVENT: return .mappingStart
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        case YAML_SEQUENCE_START_EVENT: return .sequenceStart
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_SCALAR_EVENT: return .scalar
        case YAML_ALIAS_EVENT: return .alias
        default: return try next()
        }
    }

    /// The 1-based line where the current event starts.
    var line: Int { Int(event.pointee.start_mark.line) + 1 }

    /// The 1-based column where the current event starts.
    var column: Int { Int(event.pointee.start_mark.column) + 1 }

    /// The current scalar's bytes.
    var scalarBytes: UnsafeBufferPointer<UInt8> {
        let s = event.pointee.data.scalar
        return UnsafeBufferPointer(start: s.value, count: s.length)
    }

    /// The current scalar's text.
    var scalar: String { String(decoding: scalarBytes, as: UTF8.self) }

    /// Whether the current scalar is plain (unquoted), so `null`, `~` and empty mean null.
    var scalarIsPlain: Bool { event.pointee.data.scalar.style == YAML_PLAIN_SCALAR_STYLE }

    /// Whether the current scalar is a plain null (`null`, `Null`, `NULL`, `~` or empty).
    var scalarIsNull: Bool {
        guard scalarIsPlain else { return false }
        let b = scalarBytes
        switch b.count {
        case 0: return true
        case 1: return b[0] == UInt8(ascii: "~")
        case 4: return ["null", "Null", "NULL"].contains { $0.utf8.elementsEqual(b) }
        default: return false
        }
    }

    /// The anchor declared on the current scalar, mapping or sequence, if any.
    var anchor: String? {
        let e = event.pointee
        let pointer: UnsafeMutablePointer<yaml_char_t>?
        switch e.type {
        case YAML_SCALAR_EVENT: pointer = e.data.scalar.anchor
        case YAML_MAPPING_START_EVENT: pointer = e.data.mapping_start.anchor
        case YAML_SEQUENCE_START_EVENT: pointer = e.data.sequence_start.anchor
        default: pointer = nil
        }
        return pointer.map { String(cString: $0) }
    }

    /// The anchor name an alias event refers to.
    var aliasName: String { String(cString: event.pointee.data.alias.anchor) }

    /// A structural error at the current event.
    func error(_ message: String) -> YAMLError {
        YAMLError(source: source, line: line, column: column, message: message)
    }
}

/// A YAML syntax or structure problem, with where it is.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    /// The file path or redacted URL the YAML came from.
    public let source: String
    /// 1-based line.
    public let line: Int
    /// 1-based column.
    public let column: Int
    /// What is wrong.
    public let message: String

    /// `source:line:column: message`.
    public var description: String { "\(source):\(line):\(column): \(message)" }
}
