// Machine facts recorded with every result: CPU model, governor if readable, kernel, load.
// Pure: the host hands in the file reader and the os facts.
import type { MachineInfo } from './types';

export interface MachineSources {
  readText(path: string): Promise<string | null>;
  cpus: () => { model: string }[];
  release: () => string;
  loadavg: () => number[];
  hostname: () => string;
}

export function parseCpuModel(cpuinfo: string | null): string | null {
  const m = cpuinfo ? /^model name\s*:\s*(.+)$/m.exec(cpuinfo) : null;
  return m ? m[1].trim() : null;
}

export async function collectMachineInfo(src: MachineSources): Promise<MachineInfo> {
  const cpus = src.cpus();
  const governor = (await src.readText('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'))?.trim() || null;
  const load = src.loadavg();
  return {
    cpu: parseCpuModel(await src.readText('/proc/cpuinfo')) ?? cpus[0]?.model ?? null,
    cores: cpus.length || null,
    governor,
    kernel: src.release() || null,
    load: load.length >= 3 ? [load[0], load[1], load[2]] : null,
    hostname: src.hostname() || null,
  };
}
