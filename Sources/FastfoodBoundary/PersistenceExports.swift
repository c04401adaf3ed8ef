import CFastfood
import FastfoodCore
import FastfoodEngine
import Glibc

// Saving and loading layers with their parameters. The sequences of checks and I/O are the
// engine's (Persistence); here: argument checks, handles, and the failures as statuses. Each
// export is one line naming itself.

private func elementType(_ code: UInt32) throws(BoundaryError) -> LayerFile.ElementType {
    guard let type = LayerFile.ElementType(rawValue: code) else {
        throw .invalidArgument("element_type (\(code)) is neither FASTFOOD_TYPE_F32 (1) nor FASTFOOD_TYPE_F64 (2)")
    }
    return type
}

private func fileSize(_ layer: LayerCore, _ type: LayerFile.ElementType) throws(BoundaryError) -> Int {
    guard let size = Persistence.size(of: layer.shape, type) else {
        throw .sizeOverflow("the saved layer would be larger than an address space holds")
    }
    return size
}

/// The engine's failure as the documented status.
private func status(_ failure: Persistence.Failure) -> BoundaryError {
    switch failure {
    case .badFormat(let message): BoundaryError(status: FASTFOOD_ERROR_BAD_FORMAT, message: message)
    case .unsupportedVersion(let message): BoundaryError(status: FASTFOOD_ERROR_UNSUPPORTED_VERSION, message: message)
    case .io(let message): BoundaryError(status: FASTFOOD_ERROR_IO, message: message)
    case .outOfMemory(let message): BoundaryError(status: FASTFOOD_ERROR_OUT_OF_MEMORY, message: message)
    case .mismatch(let message): BoundaryError(status: FASTFOOD_ERROR_INVALID_ARGUMENT, message: message)
    }
}

private func checkedSize(_ size: Int) throws(BoundaryError) {
    guard size >= 0 else { throw .sizeOverflow("size (\(unsigned(size))) is larger than any addressable buffer") }
}

@c @implementation
public func fastfood_save_size(_ layer: OpaquePointer?, _ element_type: UInt32, _ size: UnsafeMutablePointer<Int>?) -> fastfood_status {
    exported("fastfood_save_size") { () throws(BoundaryError) in
        let layer = try LayerHandle.layer(layer)
        let type = try elementType(element_type)
        let destination = try Validate.nonNull(size, "size")
        destination.pointee = try fileSize(layer, type)
    }
}

func save<T: FastfoodScalar>(_ name: StaticString, _ handle: OpaquePointer?, _ params: UnsafePointer<T>?,
                              _ buffer: UnsafeMutableRawPointer?, _ bufferSize: Int) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let layer = try LayerHandle.layer(handle)
        let params = try Validate.nonNull(params, "params")
        let buffer = try Validate.nonNull(buffer, "buffer")
        let needed = try fileSize(layer, .of(T.self))
        guard bufferSize >= 0, bufferSize >= needed else {
            throw .invalidArgument("buffer_size (\(unsigned(bufferSize))) is smaller than the \(needed) bytes fastfood_save_size reports")
        }
        try Validate.apart(MemorySpan(UnsafeRawPointer(buffer), bytes: needed), "buffer",
                           MemorySpan(params, count: layer.shape.parameterCount), "params")
        Persistence.save(layer, params: params, type: .of(T.self), into: buffer)
    }
}

func saveFile<T: FastfoodScalar>(_ name: StaticString, _ handle: OpaquePointer?, _ params: UnsafePointer<T>?,
                                  _ path: UnsafePointer<CChar>?) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let layer = try LayerHandle.layer(handle)
        let params = try Validate.nonNull(params, "params")
        let path = try Validate.nonNull(path, "path")
        _ = try fileSize(layer, .of(T.self))  // the documented SIZE_OVERFLOW, before any I/O
        do throws(Persistence.Failure) { try Persistence.saveFile(layer, params: params, type: .of(T.self), path: path) }
        catch { throw status(error) }
    }
}

private struct InfoOutputs {
    let inFeatures, outFeatures, paramCount: UnsafeMutablePointer<Int>?
    let seed: UnsafeMutablePointer<UInt64>?
    let flags, elementType: UnsafeMutablePointer<UInt32>?

    func write(_ info: LayerFile.Info) {
        inFeatures?.pointee = info.shape.inFeatures
        outFeatures?.pointee = info.shape.outFeatures
        paramCount?.pointee = info.shape.parameterCount
        seed?.pointee = info.seed
        flags?.pointee = info.flags
        elementType?.pointee = info.elementType.rawValue
    }
}

/// The engine's call, its failure as the documented status.
private func persisting<R>(_ body: () throws(Persistence.Failure) -> R) throws(BoundaryError) -> R {
    do throws(Persistence.Failure) { return try body() } catch { throw status(error) }
}

/// A file's image (the caller frees it).
private func readFile(_ path: UnsafePointer<CChar>?) throws(BoundaryError) -> (UnsafeMutableRawPointer, Int) {
    let path = try Validate.nonNull(path, "path")
    return try persisting { () throws(Persistence.Failure) in try Persistence.readFile(path) }
}

@c @implementation
public func fastfood_load_info(
    _ buffer: UnsafeRawPointer?, _ size: Int, _ in_features: UnsafeMutablePointer<Int>?,
    _ out_features: UnsafeMutablePointer<Int>?, _ seed: UnsafeMutablePointer<UInt64>?, _ flags: UnsafeMutablePointer<UInt32>?,
    _ element_type: UnsafeMutablePointer<UInt32>?, _ param_count: UnsafeMutablePointer<Int>?
) -> fastfood_status {
    exported("fastfood_load_info") { () throws(BoundaryError) in
        let bytes = try Validate.nonNull(buffer, "buffer")
        try checkedSize(size)
        let info = try persisting { () throws(Persistence.Failure) in try Persistence.info(bytes, count: size) }
        InfoOutputs(inFeatures: in_features, outFeatures: out_features, paramCount: param_count, seed: seed,
                    flags: flags, elementType: element_type).write(info)
    }
}

@c @implementation
public func fastfood_load_file_info(
    _ path: UnsafePointer<CChar>?, _ in_features: UnsafeMutablePointer<Int>?, _ out_features: UnsafeMutablePointer<Int>?,
    _ seed: UnsafeMutablePointer<UInt64>?, _ flags: UnsafeMutablePointer<UInt32>?,
    _ element_type: UnsafeMutablePointer<UInt32>?, _ param_count: UnsafeMutablePointer<Int>?
) -> fastfood_status {
    exported("fastfood_load_file_info") { () throws(BoundaryError) in
        let (image, size) = try readFile(path)
        defer { free(image) }
        let info = try persisting { () throws(Persistence.Failure) in try Persistence.info(image, count: size) }
        InfoOutputs(inFeatures: in_features, outFeatures: out_features, paramCount: param_count, seed: seed,
                    flags: flags, elementType: element_type).write(info)
    }
}

/// Validates (the engine), makes the handle, then writes the parameters and the handle: nothing
/// the caller owns is written unless everything has passed. `callersBuffer`: the bytes are the
/// caller's (not a file's image), so params must not overlap them.
private func load<T: FastfoodScalar>(_ bytes: UnsafeRawPointer, _ size: Int,
                                     _ outLayer: UnsafeMutablePointer<OpaquePointer?>, _ params: UnsafeMutablePointer<T>,
                                     _ paramCount: Int, callersBuffer: Bool) throws(BoundaryError) {
    let loaded = try persisting { () throws(Persistence.Failure) in
        try Persistence.load(bytes, count: size, type: .of(T.self), paramCount: paramCount)
    }
    if callersBuffer {  // paramCount is the file's count now
        do throws(BoundaryError) {
            try Validate.apart(MemorySpan(UnsafePointer(params), count: paramCount), "params",
                               MemorySpan(bytes, bytes: size), "buffer")
        } catch {
            loaded.layer.deallocate()
            throw error
        }
    }
    guard let handle = LayerHandle.make(loaded.layer) else {  // (which frees the layer then)
        throw .outOfMemory("could not allocate the layer's handle")
    }
    loaded.copyParameters(into: params)
    outLayer.pointee = handle
}

func loadBuffer<T: FastfoodScalar>(_ name: StaticString, _ buffer: UnsafeRawPointer?, _ size: Int,
                                   _ outLayer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<T>?,
                                   _ paramCount: Int) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let bytes = try Validate.nonNull(buffer, "buffer")
        try checkedSize(size)
        let destination = try Validate.nonNull(outLayer, "out_layer")
        let params = try Validate.nonNull(params, "params")
        try load(bytes, size, destination, params, paramCount, callersBuffer: true)
    }
}

/// The outputs are checked before any I/O: a bad call reads nothing.
func loadFile<T: FastfoodScalar>(_ name: StaticString, _ path: UnsafePointer<CChar>?,
                                 _ outLayer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<T>?,
                                 _ paramCount: Int) -> fastfood_status {
    exported(name) { () throws(BoundaryError) in
        let destination = try Validate.nonNull(outLayer, "out_layer")
        let params = try Validate.nonNull(params, "params")
        let (image, size) = try readFile(path)
        defer { free(image) }
        try load(image, size, destination, params, paramCount, callersBuffer: false)
    }
}

extension LayerFile.ElementType {
    static func of<T: FastfoodScalar>(_: T.Type) -> Self { T.self == Float.self ? .float32 : .float64 }
}

// The exports, f32 then f64 of each.

@c @implementation public func fastfood_save_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ buffer: UnsafeMutableRawPointer?, _ buffer_size: Int) -> fastfood_status {
    save("fastfood_save_f32", layer, params, buffer, buffer_size)
}
@c @implementation public func fastfood_save_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ buffer: UnsafeMutableRawPointer?, _ buffer_size: Int) -> fastfood_status {
    save("fastfood_save_f64", layer, params, buffer, buffer_size)
}

@c @implementation public func fastfood_save_file_f32(_ layer: OpaquePointer?, _ params: UnsafePointer<Float>?,
    _ path: UnsafePointer<CChar>?) -> fastfood_status {
    saveFile("fastfood_save_file_f32", layer, params, path)
}
@c @implementation public func fastfood_save_file_f64(_ layer: OpaquePointer?, _ params: UnsafePointer<Double>?,
    _ path: UnsafePointer<CChar>?) -> fastfood_status {
    saveFile("fastfood_save_file_f64", layer, params, path)
}

@c @implementation public func fastfood_load_f32(_ buffer: UnsafeRawPointer?, _ size: Int,
    _ out_layer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<Float>?, _ param_count: Int) -> fastfood_status {
    loadBuffer("fastfood_load_f32", buffer, size, out_layer, params, param_count)
}
@c @implementation public func fastfood_load_f64(_ buffer: UnsafeRawPointer?, _ size: Int,
    _ out_layer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<Double>?, _ param_count: Int) -> fastfood_status {
    loadBuffer("fastfood_load_f64", buffer, size, out_layer, params, param_count)
}

@c @implementation public func fastfood_load_file_f32(_ path: UnsafePointer<CChar>?,
    _ out_layer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<Float>?, _ param_count: Int) -> fastfood_status {
    loadFile("fastfood_load_file_f32", path, out_layer, params, param_count)
}
@c @implementation public func fastfood_load_file_f64(_ path: UnsafePointer<CChar>?,
    _ out_layer: UnsafeMutablePointer<OpaquePointer?>?, _ params: UnsafeMutablePointer<Double>?, _ param_count: Int) -> fastfood_status {
    loadFile("fastfood_load_file_f64", path, out_layer, params, param_count)
}
