// The generated client names the DOM's global `BodyInit`; Node's types declare it only inside
// undici's, so it is made global here for this library's compilation.
declare type BodyInit = globalThis.RequestInit['body'] & {};
