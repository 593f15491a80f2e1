import type { Request } from "./http";

export interface User {
  id: number;
  name: string;
  greet(other: User): string;
}

export type UserId = User["id"];

export enum Role {
  Admin = "admin",
  Member = "member",
}

export abstract class Repository<T extends { id: number }> {
  protected items = new Map<number, T>();

  abstract validate(item: T): boolean;

  save(item: T): T {
    this.items.set(item.id, item);
    return item;
  }
}

export const findUser = async (req: Request, id: UserId): Promise<User | undefined> => {
  return undefined;
};

export function isAdmin(user: User, role: Role = Role.Member): boolean {
  return role === Role.Admin;
}

namespace Internal {
  export function helper(): void {}
}
