import Foundation

/// The part of JSON Schema 2020-12 koki's contracts use: type (one or a list), properties,
/// required, additionalProperties: false, items, enum, const, anyOf, pattern, format "date",
/// minimum, maximum, minLength. Anything else in a schema is an error, so a contract cannot
/// silently use a keyword this checker ignores.
struct SchemaValidator {
    let root: [String: Any]
    static let known: Set<String> = ["$schema", "$id", "title", "description", "type", "properties", "required",
                                     "additionalProperties", "items", "enum", "const", "anyOf", "pattern", "format",
                                     "minimum", "maximum", "minLength"]

    static let directory = Env.repoRoot.appendingPathComponent("contracts/schemas")

    /// The schema of an event type, or nil if the contract has none.
    static func forType(_ type: String) throws -> SchemaValidator? {
        let url = directory.appendingPathComponent("\(type).json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return SchemaValidator(root: try JSONSerialization.jsonObject(with: data) as! [String: Any])
    }

    /// Every violation, as `path: problem` (empty when the value conforms).
    func validate(_ value: Any) -> [String] {
        var errors: [String] = []
        check(value, root, "$", &errors)
        return errors
    }

    private func check(_ value: Any, _ schema: [String: Any], _ path: String, _ errors: inout [String]) {
        for key in schema.keys where !Self.known.contains(key) {
            errors.append("\(path): the schema uses '\(key)', which this checker does not know")
        }
        if let options = schema["anyOf"] as? [[String: Any]] {
            var reasons: [String] = []
            let matches = options.contains { option in
                var optionErrors: [String] = []
                check(value, option, path, &optionErrors)
                reasons += optionErrors
                return optionErrors.isEmpty
            }
            if !matches { errors.append("\(path): matches none of anyOf (\(reasons.joined(separator: "; ")))") }
        }
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? "?"]
            guard types.contains(where: { Self.isType(value, $0) }) else {
                errors.append("\(path): expected \(types.joined(separator: " or ")), found \(Self.describe(value))")
                return
            }
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { Self.equal($0, value) }) {
            errors.append("\(path): \(value) is not one of \(allowed)")
        }
        if let constant = schema["const"], !Self.equal(constant, value) { errors.append("\(path): must be \(constant)") }
        if let text = value as? String {
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                errors.append("\(path): '\(text)' does not match \(pattern)")
            }
            if schema["format"] as? String == "date", !Self.isDate(text) { errors.append("\(path): '\(text)' is not a date") }
            if let min = schema["minLength"] as? Int, text.count < min { errors.append("\(path): shorter than \(min)") }
        }
        if let number = value as? NSNumber, !Self.isBoolean(value) {
            if let min = schema["minimum"] as? NSNumber, number.doubleValue < min.doubleValue { errors.append("\(path): below \(min)") }
            if let max = schema["maximum"] as? NSNumber, number.doubleValue > max.doubleValue { errors.append("\(path): above \(max)") }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                errors.append("\(path): '\(name)' is required")
            }
            for (name, member) in object {
                if let property = properties[name] {
                    check(member, property, "\(path).\(name)", &errors)
                } else if schema["additionalProperties"] as? Bool == false {
                    errors.append("\(path): '\(name)' is not in the contract")
                }
            }
        }
        if let list = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, element) in list.enumerated() { check(element, items, "\(path)[\(i)]", &errors) }
        }
    }

    /// JSONSerialization gives booleans as NSNumber too (and `is Bool` holds for 0 and 1):
    /// a boolean is the number whose type encoding is `c`.
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return value is Bool }
        return String(cString: number.objCType) == "c"
    }

    static func isType(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "boolean": return isBoolean(value)
        case "integer":
            guard !isBoolean(value), let n = value as? NSNumber else { return false }
            return n.doubleValue == n.doubleValue.rounded()
        case "number": return !isBoolean(value) && value is NSNumber
        case "string": return value is String
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        default: return false
        }
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard text.count == 10, parts.count == 3, (1...12).contains(parts[1]), parts[2] >= 1 else { return false }
        let leap = parts[0] % 4 == 0 && (parts[0] % 100 != 0 || parts[0] % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return parts[2] <= days[parts[1] - 1]
    }

    static func equal(_ a: Any, _ b: Any) -> Bool { NSArray(object: a).isEqual(to: [b]) }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if value is String { return "a string" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        if isBoolean(value) { return "a boolean" }
        return "a number"
    }
}
