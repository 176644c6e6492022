/** The labels launcher puts on every container it creates; nothing without them is touched. */
export const LABEL_MANIFEST = "launcher.manifest";
export const LABEL_CONTAINER = "launcher.container";
export const LABEL_SPEC_HASH = "launcher.spec-hash";
export const LABEL_HOST = "launcher.host";
