/** A spec's pull policy, applied before each create: pull if missing, always, or never. */
import type { DockerEngine } from "../docker/engine.ts";
import { LauncherError } from "../errors.ts";
import type { PullPolicy } from "../manifest/schema.ts";

/** The image is not on the engine and the spec forbids pulling it. */
export class ImageAbsentError extends LauncherError {
  constructor(image: string, host: string) {
    super(
      "image_absent",
      `image ${image} is not on host ${host} and the spec says pull: never; load it on the host ` +
        `or change the pull policy`,
    );
  }
}

/** The engine calls the policy needs; a narrow view so that tests can fake it. */
export type ImageEngine = Pick<DockerEngine, "imageExists" | "pullImage">;

/**
 * Makes sure the engine has `image` as the policy asks (`missing` when absent): `missing` pulls
 * only an absent image, `always` pulls every time, `never` throws {@link ImageAbsentError} when
 * the image is absent. `onPull` runs just before a pull starts.
 */
export async function ensureImage(
  engine: ImageEngine,
  image: string,
  policy: PullPolicy | undefined,
  host: string,
  onPull: () => void,
): Promise<void> {
  if (policy !== "always" && (await engine.imageExists(image))) return;
  if (policy === "never") throw new ImageAbsentError(image, host);
  onPull();
  await engine.pullImage(image);
}
