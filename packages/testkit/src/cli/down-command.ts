import { Command } from "commander";
import { destroyLocalCluster } from "../destroy-local-cluster.js";
import { type CliOutput, dirOption } from "./cli-options.js";

/** `archipelago-local down`: stops every server of the folder (from its manifest) and removes it. */
export function downCommand(output: CliOutput): Command {
  return new Command("down")
    .description("stop every server of the cluster and remove its folder")
    .addOption(dirOption())
    .action(async (options: { dir: string }) => {
      const destroyed = await destroyLocalCluster(options.dir);
      output.out(`Stopped ${destroyed.stoppedServers} server(s) and removed ${destroyed.dir}\n`);
    });
}
