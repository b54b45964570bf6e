// Entry for bundling the published client: its dist/ uses extensionless imports, so it is
// bundled once (tests/.cache) before Deno can load it.
export { SendspinCore } from "@sendspin/sendspin-js";
